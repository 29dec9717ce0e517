/// Heartbeat: see ../shared/DESIGN.md (module layout).
public enum HeartbeatModule {}
