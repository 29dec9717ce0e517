/// LoadFeedback: see ../shared/DESIGN.md (module layout).
public enum LoadFeedbackModule {}
