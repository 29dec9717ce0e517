/// LVSConfig: see ../shared/DESIGN.md (module layout).
public enum LVSConfigModule {}
