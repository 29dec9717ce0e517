/// IPVS: see ../shared/DESIGN.md (module layout).
public enum IPVSModule {}
