/// Rate-limits the logging of rejected heartbeat datagrams: one line per ``interval``, carrying the counts per reason
/// since the previous line, plus one at once for a reason the last line did not have. A value type with time passed
/// in, so it runs under a test clock.
///
/// The first rejection after a quiet interval is reported at once, and so is a new kind of rejection in the middle of
/// a flood of another (an operator sees a version mismatch or a wrong key without waiting behind a flood of forged
/// datagrams); repeats are summed until the interval has passed. So a flood of any mix of reasons logs at most one
/// line per interval plus one per reason. ``flush(now:)`` (called from the service's timer) reports what is left once
/// the interval is over, so the last counts of a flood are not lost.
public struct HeartbeatRejectionLog<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// One log line's worth: counts per reason.
    public struct Summary: Sendable, Hashable, CustomStringConvertible {
        public var counts: [HeartbeatRejection: Int]

        /// "12 badMAC, 1 wrongVersion: <description of each reason>".
        public var description: String {
            let reasons = HeartbeatRejection.allCases.filter { counts[$0] != nil }
            return reasons.map { "\(counts[$0]!) \($0.label)" }.joined(separator: ", ") + " ("
                + reasons.map(\.description).joined(separator: "; ") + ")"
        }
    }

    public let interval: Duration
    private var pending: [HeartbeatRejection: Int] = [:]
    private var lastLogged: Instant?
    /// The reasons reported since the interval that `lastLogged` started.
    private var reported: Set<HeartbeatRejection> = []

    public init(interval: Duration = .seconds(10)) {
        self.interval = interval
    }

    /// When ``flush(now:)`` has something to report; nil when nothing is pending.
    public var nextFlush: Instant? {
        guard !pending.isEmpty, let lastLogged else { return nil }
        return lastLogged.advanced(by: interval)
    }

    /// Adds `counts`; returns the line to log now, if one is due.
    public mutating func record(_ counts: [HeartbeatRejection: Int], now: Instant) -> Summary? {
        var new = false
        for (reason, count) in counts where count > 0 {
            pending[reason, default: 0] += count
            if !reported.contains(reason) { new = true }
        }
        if new, let lastLogged, now < lastLogged.advanced(by: interval) {
            // A reason this interval has not shown yet: report it now, within the same interval.
            reported.formUnion(pending.keys)
            defer { pending = [:] }
            return Summary(counts: pending)
        }
        return flush(now: now)
    }

    /// Returns the pending counts if the interval since the last line has passed.
    public mutating func flush(now: Instant) -> Summary? {
        guard !pending.isEmpty else { return nil }
        if let lastLogged, now < lastLogged.advanced(by: interval) { return nil }
        lastLogged = now
        reported = Set(pending.keys)
        defer { pending = [:] }
        return Summary(counts: pending)
    }
}
