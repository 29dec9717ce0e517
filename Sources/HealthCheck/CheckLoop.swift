import Logging
import NIOCore

/// The engine's working part, confined to its event loop: every target in a numbered slot, the schedule, the checks
/// in flight and the verdicts.
///
/// It knows nothing of the caller's target names (``EngineCore`` maps them to slots), so none of its per-check work
/// is generic: no dictionary keyed by a caller's type, no runtime generic metadata, no copy of a target's record. A
/// check's token is its slot and the slot's generation, so a result finds its target with one array index, and a
/// result for a target since removed or replaced is recognised and dropped.
final class CheckLoop {
    typealias Instant = LoopInstant
    typealias Action = RiseFallStateMachine<Instant>.Action

    struct Slot {
        var target: HealthTarget
        var machine: RiseFallStateMachine<Instant>
        var lastCheck: HealthCheckRecord? = nil
        /// The deadline of the check in flight and when it started; nil when none is.
        var flight: (deadline: Instant, startedAt: Instant)? = nil
    }

    private let loop: any EventLoop
    private let probes: any HealthProbes
    private let coalescing: Duration
    private let logger: Logger
    private var random: any RandomNumberGenerator & Sendable
    private let maximumChecksInFlight: Int
    /// Called with a slot, its endpoint and its new verdict, in the order they were decided.
    private let report: (Int, HealthEndpoint, Action) -> Void

    private(set) var slots: [Slot?] = []
    private var generations: [UInt32] = []
    private var freeSlots: [Int] = []
    private var scheduler = CheckScheduler<Int, Instant>()
    private var checksInFlight = 0
    private var results: [ProbeResult] = []
    var counters = HealthCheckStatistics()
    private var localErrorLog = LocalErrorLog()

    private enum Phase {
        case idle
        case running(stopped: EventLoopPromise<Void>)
        case stopped
    }

    private var phase = Phase.idle
    private var timer: Scheduled<Void>?
    private var timerDeadline: Instant?
    private var lastWake: Instant?

    init(
        loop: any EventLoop, probes: any HealthProbes, coalescing: Duration, logger: Logger,
        random: any RandomNumberGenerator & Sendable, maximumChecksInFlight: Int,
        report: @escaping (Int, HealthEndpoint, Action) -> Void
    ) {
        self.loop = loop
        self.probes = probes
        self.coalescing = coalescing
        self.logger = logger
        self.random = random
        self.maximumChecksInFlight = maximumChecksInFlight
        self.report = report
    }

    private var now: Instant { LoopInstant(loop.now) }

    var running: Bool {
        if case .running = phase { return true }
        return false
    }

    // MARK: targets

    /// A new target in a free slot, `.unknown`, first checked `offset` from now; returns its slot.
    func add(_ target: HealthTarget, firstCheckIn offset: Duration) -> Int {
        let slot = freeSlots.popLast() ?? {
            slots.append(nil)
            generations.append(0)
            return slots.count - 1
        }()
        generations[slot] &+= 1
        slots[slot] = Slot(target: target, machine: RiseFallStateMachine(timing: target.timing))
        scheduler.schedule(slot, at: now + offset)
        return slot
    }

    /// Stops checking the target in `slot`; a check of it still in flight is ignored when it ends.
    func remove(_ slot: Int) {
        slots[slot] = nil
        generations[slot] &+= 1
        scheduler.cancel(slot)
        freeSlots.append(slot)
    }

    /// Arms the timer for the schedule after targets changed.
    func targetsChanged() { armTimer() }

    // MARK: running

    func start(stopped: EventLoopPromise<Void>) {
        guard case .idle = phase else {
            stopped.succeed()
            preconditionFailure("HealthCheckEngine.run() called twice")
        }
        phase = .running(stopped: stopped)
        fire()
    }

    /// Stops checking; checks in flight are abandoned.
    func stop() {
        if case .running(let stopped) = phase { stopped.succeed() }
        phase = .stopped
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        probes.cancelAll()
        checksInFlight = 0
    }

    /// Collects the results that came in, starts every due check, then sleeps until there is something to do.
    private func fire() {
        timer = nil
        timerDeadline = nil
        guard running else { return }
        var now = self.now
        lastWake = now
        counters.wakeUps += 1
        if checksInFlight > 0 {
            probes.poll(now: now, into: &results)
            checksInFlight -= results.count
            for finished in results { complete(finished) }
            results.removeAll(keepingCapacity: true)
            now = self.now
        }
        for due in scheduler.popDue(now: now, limit: maximumChecksInFlight - checksInFlight) {
            guard let target = slots[due.id]?.target else { continue }
            slots[due.id]!.flight = (due.deadline, now)
            checksInFlight += 1
            counters.peakInFlight = max(counters.peakInFlight, checksInFlight)
            counters.started += 1
            counters.lateness.record(due.deadline.duration(to: now))
            let token = UInt64(due.id) | UInt64(generations[due.id]) << 32
            probes.start(target.check, against: target.endpoint, deadline: now + target.timing.timeout, token: token)
        }
        armTimer()
    }

    /// Makes sure a timer fires at the next instant something is to be done: the earliest deadline (not while the
    /// in-flight limit is reached), and while checks are in flight their next poll; never sooner than `coalescing`
    /// after the last wake-up.
    private func armTimer() {
        guard running else { return }
        let now = self.now
        var wake: Instant? = checksInFlight < maximumChecksInFlight ? scheduler.nextDeadline : nil
        if checksInFlight > 0 {
            let poll = probes.nextResult(now: now) ?? now + max(coalescing, .milliseconds(1))
            wake = min(wake ?? poll, poll)
        }
        guard var wake else { return }
        if let lastWake { wake = max(wake, lastWake + coalescing) }
        if let timerDeadline, timerDeadline <= wake { return }
        timer?.cancel()
        timerDeadline = wake
        let loop = NIOLoopBound(self, eventLoop: self.loop)
        timer = self.loop.scheduleTask(in: TimeAmount(max(now.duration(to: wake), .zero))) { loop.value.fire() }
    }

    private func complete(_ finished: ProbeResult) {
        let slot = Int(truncatingIfNeeded: finished.token & 0xFFFF_FFFF)
        guard slot < slots.count, generations[slot] == UInt32(truncatingIfNeeded: finished.token >> 32),
            let (deadline, startedAt) = slots[slot]?.flight
        else { return }  // removed or replaced while in flight
        let now = self.now
        let result = finished.result
        counters.durations.record(startedAt.duration(to: now))
        switch result {
        case .passed: counters.passed += 1
        case .failed(let reason):
            counters.failed += 1
            if reason == .timeout { counters.timedOut += 1 }
        case .inconclusive(let local):
            counters.localErrors += 1
            localErrorLog.record(local, at: now, logger: logger)
        }
        slots[slot]!.flight = nil
        let action = slots[slot]!.machine.record(result, at: now)
        if case .inconclusive = result {
            // Not a check of the server: its last check stays the last real one.
        } else {
            let failure: HealthCheckFailure? = if case .failed(let reason) = result { reason } else { nil }
            slots[slot]!.lastCheck = HealthCheckRecord(
                failure: failure, completedAt: now.deadline, duration: startedAt.duration(to: now))
        }
        if action != .none { report(slot, slots[slot]!.target.endpoint, action) }

        let timing = slots[slot]!.target.timing
        // 53 random bits as a fraction in [0, 1].
        let fraction = Double(random.next() >> 11) / Double(UInt64(1) << 53)
        let next = CheckScheduler<Int, Instant>.followingDeadline(
            after: deadline, completedAt: now, interval: timing.interval, jitter: timing.jitter, random: fraction)
        scheduler.schedule(slot, at: next)
    }
}

/// Local errors logged at most once per `interval`, with how many there were since the last line: a director out of
/// descriptors fails every check at once, and one line per check would flood the log when it can least afford it.
struct LocalErrorLog {
    static let interval: Duration = .seconds(10)
    private var lastLogged: LoopInstant?
    private var unlogged = 0

    mutating func record(_ error: LocalCheckError, at now: LoopInstant, logger: Logger) {
        unlogged += 1
        if let lastLogged, lastLogged.duration(to: now) < Self.interval { return }
        logger.error(
            "health checks cannot run: \(error); \(unlogged) such check(s) since the last line; the servers keep their state (raise LimitNOFILE or find what holds the descriptors)")
        lastLogged = now
        unlogged = 0
    }
}
