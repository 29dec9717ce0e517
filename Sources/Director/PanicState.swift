import HealthCheck
import LVSConfig
import NIOCore

/// The overload guard of the virtual servers: Envoy's panic threshold, with the kind of failure deciding who stays.
///
/// The rule, per virtual server with at least two active real servers (docs/weights.md, "Under overload"):
/// - It is **in panic** while fewer than `panic_threshold` percent (lvs.cf, default 50) of its active real servers
///   pass their checks. A server not checked yet counts as passing, a down one as failing. Every server is checked
///   once per check interval and a down server goes on failing, so at the default this is "more than half fail
///   their checks within one check interval", however far apart their first failures were: an overload cascade
///   (one removal pushes its load onto the rest, whose checks then time out) is caught wherever it starts.
/// - In panic, a server whose check **timed out** (``HealthCheckFailure/timeout``, which includes a `send_program`
///   killed at its timeout) is busy, not dead: it stays in the table at no more than its lowest load weight
///   (``LoadFeedback/WeightPolicy/minimumWeight(base:)``). A server whose check was refused, reset or answered
///   wrongly is positively dead or broken and is removed as usual. Operator overrides win over panic.
/// - Panic ends when the share passing reaches the threshold again; the table is then as without panic.
/// - A virtual server with one real server never panics: there is no rest to protect, and its `sorry_server` is
///   there for exactly that case.
/// - "Within one check interval": the checks of a virtual server's servers are spread over the interval, so when
///   they all time out together the first one fails up to an interval before the one that starts the panic. A
///   server whose check timed out therefore stays in (as in panic) for one `check_interval` after it went down,
///   in a virtual server that can panic; if no panic comes, it is removed then (``graced(_:health:now:)``).
///
/// A value type with time passed in: it keeps since when each virtual server is in panic, counts the panics, and
/// rate-limits their log lines (at most one per ``logInterval`` per virtual server; the ones held back are counted
/// in the next line, which ``flush(now:)`` writes once the interval is over).
public struct PanicState: Sendable, Hashable {
    /// One virtual server's panic.
    public struct Panic: Sendable, Hashable {
        public var since: NIODeadline
        /// Active real servers failing their checks, and all active real servers.
        public var failing: Int
        public var total: Int
        /// `panic_threshold`, percent.
        public var threshold: Int
        /// Whether its start was logged (so its end is).
        var logged: Bool

        /// `3 of 3 real servers fail their checks (fewer than 50% pass)`.
        public var summary: String {
            "\(failing) of \(total) real servers fail their checks (fewer than \(threshold)% pass)"
        }
    }

    /// The shortest time between two panic log lines of one virtual server.
    public static let logInterval: TimeAmount = .seconds(60)

    /// Virtual servers in panic now, by name.
    public private(set) var panics: [String: Panic] = [:]
    /// Panics begun since the director started, by virtual server.
    public private(set) var entries: [String: Int] = [:]
    private var lastLineAt: [String: NIODeadline] = [:]
    /// Panic starts not logged yet (rate limit), by virtual server.
    private var heldBack: [String: Int] = [:]
    private var lines: [String] = []

    public init() {}

    /// Whether a failed check is the symptom of overload (a busy server answering late) rather than of a dead one.
    public static func isOverloadSymptom(_ failure: HealthCheckFailure) -> Bool {
        failure == .timeout
    }

    /// Failing and total servers when `health` (one entry per active real server) puts the virtual server in panic
    /// at `threshold` percent; nil when it is not.
    public static func verdict(_ health: [HealthState], threshold: Int) -> (failing: Int, total: Int)? {
        let total = health.count
        let failing = health.filter { if case .down = $0 { return true } else { return false } }.count
        guard total >= 2, (total - failing) * 100 < threshold * total else { return nil }
        return (failing, total)
    }

    /// The servers of `virtual` whose check timed out less than its check interval before `now`, when the virtual
    /// server can panic (panic_threshold above 0, two or more active real servers) and is not in panic yet.
    public func graced(_ virtual: VirtualServer, health: [RealServerID: (state: HealthState, since: NIODeadline)], now: NIODeadline)
        -> [RealServerID]
    {
        let active = virtual.realServers.filter(\.active)
        guard virtual.panicThreshold > 0, active.count >= 2, panics[virtual.name] == nil else { return [] }
        let interval = TimeAmount.seconds(Int64(virtual.checkInterval))
        return active.compactMap { server in
            let id = RealServerID(virtual: virtual.name, server: server.name)
            guard let record = health[id], case .down(let failure) = record.state, Self.isOverloadSymptom(failure),
                now - record.since < interval
            else { return nil }
            return id
        }
    }

    /// Re-evaluates `virtual` from its servers' health at `now`; a start or end of panic queues a log line (see
    /// ``takeLines()``), rate-limited.
    public mutating func update(virtual: String, health: [HealthState], threshold: Int, now: NIODeadline) {
        switch (panics[virtual], Self.verdict(health, threshold: threshold)) {
        case (nil, nil):
            break
        case (nil, let counts?):
            entries[virtual, default: 0] += 1
            var panic = Panic(since: now, failing: counts.failing, total: counts.total, threshold: threshold, logged: false)
            if mayLog(virtual, now: now) {
                panic.logged = true
                log(virtual, now: now, "panic: \(panic.summary)\(heldBackNote(virtual)); " + Self.consequence)
            } else {
                heldBack[virtual, default: 0] += 1
            }
            panics[virtual] = panic
        case (var panic?, let counts?):
            panic.failing = counts.failing
            panic.total = counts.total
            panic.threshold = threshold
            panics[virtual] = panic
        case (let panic?, nil):
            panics[virtual] = nil
            if panic.logged {
                log(virtual, now: now, "panic over after \(Int((now - panic.since).nanoseconds / 1_000_000_000)) s: "
                    + "enough real servers pass their checks again")
            }
        }
    }

    /// Writes the lines held back by the rate limit once their interval is over: a panic still on is logged then,
    /// panics that came and went are counted.
    public mutating func flush(now: NIODeadline) {
        for (virtual, count) in heldBack.sorted(by: { $0.key < $1.key }) where count > 0 && mayLog(virtual, now: now) {
            if var panic = panics[virtual], !panic.logged {
                panic.logged = true
                panics[virtual] = panic
                log(virtual, now: now, "panic: \(panic.summary)\(heldBackNote(virtual, excludingCurrent: true)); " + Self.consequence)
            } else {
                log(virtual, now: now, "\(count) more panic\(count == 1 ? "" : "s") came and went since the last line")
                heldBack[virtual] = 0
            }
        }
    }

    /// The log lines queued since the last call.
    public mutating func takeLines() -> [String] {
        defer { lines = [] }
        return lines
    }

    /// Forgets the virtual servers not in `names` (no longer configured or active).
    public mutating func retain(_ names: Set<String>) {
        panics = panics.filter { names.contains($0.key) }
        heldBack = heldBack.filter { names.contains($0.key) }
    }

    static let consequence =
        "servers whose checks time out stay in the table at their lowest load weight, refused or wrong answers still remove a server"

    private func mayLog(_ virtual: String, now: NIODeadline) -> Bool {
        lastLineAt[virtual].map { now - $0 >= Self.logInterval } ?? true
    }

    private mutating func log(_ virtual: String, now: NIODeadline, _ message: String) {
        lastLineAt[virtual] = now
        lines.append("virtual \(virtual): \(message)")
    }

    /// ` (2 more panics since the last line)`, and resets the count.
    private mutating func heldBackNote(_ virtual: String, excludingCurrent: Bool = false) -> String {
        let count = (heldBack[virtual] ?? 0) - (excludingCurrent ? 1 : 0)
        heldBack[virtual] = 0
        guard count > 0 else { return "" }
        return " (\(count) more panic\(count == 1 ? "" : "s") since the last line)"
    }
}
