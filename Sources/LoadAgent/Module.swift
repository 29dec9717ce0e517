/// LoadAgent: see ../shared/DESIGN.md (module layout).
public enum LoadAgentModule {}
