/// Director: see ../shared/DESIGN.md (module layout).
public enum DirectorModule {}
