import NIOCore

/// The last ~10 s of ``CPUReading``s, one a second, and the live figure they give: a value with time injected (the
/// instants are monotonic, `NIODeadline`), so the window maths is tested without waiting.
///
/// The window runs from the oldest reading kept to the newest: readings are dropped from the front while the
/// second-oldest is still ``span`` old, so it covers about ``span`` (a little more with a late tick). Counters that
/// go backwards (the cgroup was re-created, as when its service restarted) or change kind start a new window.
public struct LiveWindow: Sendable {
    /// How much time the figure averages over.
    public static let span = TimeAmount.seconds(10)
    /// The shortest window a figure is given for.
    public static let minimumSpan = TimeAmount.seconds(1)

    private(set) var readings: [(at: NIODeadline, reading: CPUReading)] = []

    public init() {}

    /// Adds the reading taken at `at` (not earlier than the previous one).
    public mutating func record(_ reading: CPUReading, at: NIODeadline) {
        if let last = readings.last, !Self.continues(last.reading.usage, with: reading.usage) || at < last.at {
            readings.removeAll()
        }
        readings.append((at, reading))
        while readings.count > 2, at - readings[1].at >= Self.span { readings.removeFirst() }
    }

    /// Forgets every reading (the source could not be read: no figure until two new readings).
    public mutating func reset() {
        readings.removeAll()
    }

    /// The figure over the window; `nil` while it covers less than ``minimumSpan``.
    public func live(source: String, cgroup: String?) -> LiveLoad? {
        guard let first = readings.first, let last = readings.last, last.at - first.at >= Self.minimumSpan else {
            return nil
        }
        let seconds = Double((last.at - first.at).nanoseconds) / 1e9
        let newest = last.reading
        let usage: Double
        switch (first.reading.usage, newest.usage) {
        case (.cgroup(let before), .cgroup(let after)):
            usage = Double(after - before) / 1e6 / seconds
        case (.host(let busyBefore, let totalBefore), .host(let busyAfter, let totalAfter)):
            // Jiffies over jiffies: the share of all CPUs busy, whatever USER_HZ is.
            let total = totalAfter - totalBefore
            usage = total == 0 ? 0 : Double(busyAfter - busyBefore) / Double(total) * Double(newest.onlineCPUs)
        default:
            return nil  // record() never keeps readings of two kinds
        }
        let capacity = newest.capacity
        let throttling = newest.throttling.map { throttled(since: $0) }
        let saturation = throttling?.share ?? newest.pressure.map { $0 / 100 } ?? 0
        return LiveLoad(
            figure: min(max(usage / capacity, 0), 1) + min(max(saturation, 0), 1), window: seconds, source: source,
            cgroup: cgroup, capacity: capacity, usage: usage, throttled: throttling?.share,
            throttledMicroseconds: throttling?.microseconds, cpuPressure: newest.pressure, inFlight: inFlight)
    }

    /// The mean of the window's counts of connections in flight (each reading's instant counts once: they are a
    /// second apart); `nil` when none was counted.
    var inFlight: Double? {
        let counts = readings.compactMap(\.reading.inFlight)
        guard !counts.isEmpty else { return nil }
        return Double(counts.reduce(0, +)) / Double(counts.count)
    }

    /// Throttling between the oldest reading of the same cgroup's counters (the binding quota may have moved to
    /// another cgroup within the window) and `newest`.
    func throttled(since newest: CPUReading.Throttling) -> (share: Double, microseconds: UInt64) {
        guard
            let oldest = readings.lazy.compactMap(\.reading.throttling).first(where: {
                $0.cgroup == newest.cgroup && $0.periods <= newest.periods
                    && $0.throttledPeriods <= newest.throttledPeriods
                    && $0.throttledMicroseconds <= newest.throttledMicroseconds
            })
        else { return (0, 0) }
        let periods = newest.periods - oldest.periods
        let share = periods == 0 ? 0 : Double(newest.throttledPeriods - oldest.throttledPeriods) / Double(periods)
        return (share, newest.throttledMicroseconds - oldest.throttledMicroseconds)
    }

    /// Whether `later` can follow `earlier` in one window: the same kind, counters not gone backwards.
    static func continues(_ earlier: CPUReading.Usage, with later: CPUReading.Usage) -> Bool {
        switch (earlier, later) {
        case (.cgroup(let a), .cgroup(let b)): b >= a
        case (.host(let busyA, let totalA), .host(let busyB, let totalB)): busyB >= busyA && totalB >= totalA
        default: false
        }
    }
}
