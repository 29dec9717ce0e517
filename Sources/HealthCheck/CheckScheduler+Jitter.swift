extension CheckScheduler {
    /// A target's deterministic place within one interval: FNV-1a of `key` (e.g. "10.0.0.2:80 web") scaled to
    /// 0..<interval. Thousands of targets added at once get first deadlines spread evenly over the interval
    /// instead of all firing in the same millisecond, and a target keeps its place across restarts.
    public static func spreadOffset(for key: String, interval: Duration) -> Duration {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        // Top 53 bits as a fraction in [0, 1).
        let fraction = Double(hash >> 11) / Double(UInt64(1) << 53)
        return interval * fraction
    }

    /// The deadline after a check that was due at `deadline` and completed at `completedAt`.
    ///
    /// Checks keep a fixed rate (`deadline + interval`) while they finish in time; a check that ran past its next
    /// deadline (a slow server, a timeout longer than the interval) is followed one interval after it completed,
    /// so a server never has two checks at once and a late one is not fired back to back.
    ///
    /// - Parameters:
    ///   - jitter: fraction of the interval to spread by (0...0.5).
    ///   - random: a number in 0...1 from the caller's generator; 0.5 means no change.
    public static func followingDeadline(
        after deadline: Instant,
        completedAt: Instant,
        interval: Duration,
        jitter: Double,
        random: Double
    ) -> Instant {
        let spread = interval * (1 + jitter * (2 * random - 1))
        let next = deadline.advanced(by: spread)
        return next > completedAt ? next : completedAt.advanced(by: spread)
    }
}
