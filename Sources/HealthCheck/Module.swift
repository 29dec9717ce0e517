/// HealthCheck: see ../shared/DESIGN.md (module layout).
public enum HealthCheckModule {}
