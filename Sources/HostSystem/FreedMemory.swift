import CLinux

/// Keeps a daemon's resident size near what it uses, not what it once used.
///
/// glibc's malloc keeps what a program freed for its next allocations, so a daemon's resident size stays at its peak:
/// a director that read a 30,000-server lvs.cf (75 MB of tokens for a moment) and made its first 30,000 IPVS changes
/// at start-up held on to those transient megabytes for good (scripts/bench-director-scale).
public enum FreedMemory {
    /// Large blocks (from 256 KiB) get pages of their own, given back to the system when freed. glibc's default
    /// raises that threshold to the largest block freed so far, which sends the next large arrays onto the heap,
    /// between long-lived objects, where their pages can never be given back. Call once, at start.
    public static func keepLargeBlocksApart() {
        _ = mallopt(M_MMAP_THRESHOLD, 256 * 1024)
    }

    /// Gives the heap's free pages back to the system. Call it after a burst of work (start-up, a reload), not on a
    /// hot path: it walks the heap.
    public static func returnToSystem() {
        _ = malloc_trim(0)
    }
}
