#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The system's real-time clock (CLOCK_REALTIME), for what must be compared across machines or restarts: heartbeat
/// sequence floors, override timestamps. Intervals and deadlines use the monotonic clock instead. Code that reads it
/// takes it as an injected `@Sendable () -> ...`, so tests can set the time.
public enum WallClock {
    /// Nanoseconds since the Unix epoch.
    public static let nanoseconds: @Sendable () -> UInt64 = {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Seconds since the Unix epoch.
    public static let seconds: @Sendable () -> Double = { Double(nanoseconds()) / 1e9 }
}
