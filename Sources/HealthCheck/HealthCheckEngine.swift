import HostSystem
import Logging
import NIOCore

/// Checks every target on its schedule and reports up/down transitions.
///
/// The engine only does I/O and bookkeeping: `CheckScheduler` decides which check is due, `HealthChecker` runs it,
/// `RiseFallStateMachine` turns the result into a transition. Transitions arrive on `transitions` and are logged
/// one line each, as nanny did (`[inactive] shutting down 10.0.0.2:80 due to ...`, `[ active ] making 10.0.0.2:80
/// available`); routine checks log nothing.
///
/// All state lives on one event loop of the checker's group (no locks, no task per check): a NIO timer wakes it at
/// the earliest deadline, checks run on any loop of the group and their results hop back. That loop is also the
/// engine's clock (``LoopInstant``): give it a checker on `NIOAsyncTestingEventLoop` and it runs on virtual time. Usage: create it,
/// `setTargets(_:)`, call `run()` in a task and consume `transitions`; cancelling that task stops the checks and
/// finishes the stream. Each target has at most one check in flight.
public final class HealthCheckEngine<ID: Hashable & Sendable>: Sendable {
    public typealias Instant = LoopInstant

    /// Every transition, in the order they were decided.
    public let transitions: AsyncStream<HealthTransition<ID>>
    private let loop: any EventLoop
    private let core: NIOLoopBoundBox<EngineCore<ID>>

    /// - Parameters:
    ///   - checker: runs the checks (its event loop group and thread pool); the engine's state lives on one loop
    ///     of its group.
    ///   - logger: gets one `notice` line per transition.
    ///   - random: spreads intervals by each target's `jitter`; inject a seeded generator for reproducible runs.
    ///   - maximumChecksInFlight: checks running at once, at most. When the director is overloaded, due checks wait
    ///     (and show as lateness) instead of piling up connections that would all time out and take healthy
    ///     servers out. Every target has at most one check in flight, so a limit above the number of targets
    ///     never binds. The default is a trade-off measured with scripts/bench-healthcheck (10,000 targets, 1 s):
    ///     a higher limit lets bursts of connection attempts overflow the servers' accept queues (SYNs dropped,
    ///     retried after 1 s: at 8,192, p99 lateness 23-160 ms in two runs of four, against 1-2 ms at 2,048);
    ///     a lower one lets hung servers, which hold their slot until the timeout, fill it (1,000 hung among
    ///     10,000 at 2,048: every verdict right, but checks ~0.4 s late).
    public init(
        checker: some HealthCheckRunning = HealthChecker(),
        logger: Logger = Logger(label: "h2e.health"),
        random: some RandomNumberGenerator & Sendable = SplitMix64(),
        maximumChecksInFlight: Int = 2_048
    ) {
        precondition(maximumChecksInFlight >= 1, "maximumChecksInFlight must be at least 1")
        let (stream, continuation) = AsyncStream.makeStream(of: HealthTransition<ID>.self)
        self.transitions = stream
        self.loop = checker.group.next()
        self.core = NIOLoopBoundBox.makeBoxSendingValue(
            EngineCore(
                loop: loop, checker: checker, logger: logger, random: random, continuation: continuation,
                maximumChecksInFlight: maximumChecksInFlight),
            as: EngineCore<ID>.self, eventLoop: loop)
    }

    /// Replaces the set of targets. New targets (and targets whose endpoint, check or timing changed) start as
    /// `.unknown`, first checked at their spread offset within one interval; removed targets stop being checked
    /// and report nothing more (a check of theirs still in flight is ignored); unchanged targets keep their state
    /// and schedule.
    public func setTargets(_ targets: [ID: HealthTarget]) async {
        _ = await onLoop { $0.setTargets(targets) }
    }

    /// The current verdict on `id`, or nil when it is not a target.
    public func health(of id: ID) async -> HealthState? {
        await onLoop { $0.entries[id]?.machine.health } ?? nil
    }

    /// Every target's current verdict.
    public func healthSnapshot() async -> [ID: HealthState] {
        await onLoop { $0.entries.mapValues { $0.machine.health } } ?? [:]
    }

    /// The most recent completed check of every target that has had one.
    public func lastChecks() async -> [ID: HealthCheckRecord] {
        await onLoop { core in core.entries.compactMapValues(\.lastCheck) } ?? [:]
    }

    /// Counters since the start or the last reset.
    public func statistics(reset: Bool = false) async -> HealthCheckStatistics {
        await onLoop { core in
            defer { if reset { core.counters = HealthCheckStatistics() } }
            return core.counters
        } ?? HealthCheckStatistics()
    }

    /// Runs the checks until the calling task is cancelled, then finishes `transitions`. Call it once.
    public func run() async {
        let stopped = loop.makePromise(of: Void.self)
        let core = self.core
        loop.execute { core.value.start(stopped: stopped) }
        await withTaskCancellationHandler {
            try? await stopped.futureResult.get()
        } onCancel: {
            loop.execute { core.value.stop() }
        }
    }

    /// Whether ``run()`` has started and not stopped (tests on virtual time wait for it before moving time).
    func isRunning() async -> Bool {
        await onLoop { $0.running } ?? false
    }

    /// Runs `body` on the engine's loop; nil when the loop is already shut down (the group's owner stopped it
    /// before the engine: there is no state left to read or change).
    private func onLoop<Result: Sendable>(_ body: @escaping @Sendable (EngineCore<ID>) -> Result) async -> Result? {
        let core = self.core
        return try? await loop.submit { body(core.value) }.get()
    }
}

/// The engine's state and decisions, confined to its event loop.
final class EngineCore<ID: Hashable & Sendable> {
    typealias Instant = LoopInstant

    struct Entry {
        var target: HealthTarget
        var machine: RiseFallStateMachine<Instant>
        var generation: UInt64
        var lastCheck: HealthCheckRecord? = nil
    }

    private let loop: any EventLoop
    private let checker: any HealthCheckRunning
    private let logger: Logger
    private var random: any RandomNumberGenerator & Sendable
    private let continuation: AsyncStream<HealthTransition<ID>>.Continuation
    private let maximumChecksInFlight: Int
    private var checksInFlight = 0

    var entries: [ID: Entry] = [:]
    var counters = HealthCheckStatistics()
    private var localErrorLog = LocalErrorLog()
    private var scheduler = CheckScheduler<ID, Instant>()
    private var nextGeneration: UInt64 = 0
    private enum Phase {
        case idle
        case running(stopped: EventLoopPromise<Void>)
        case stopped
    }

    private var phase = Phase.idle
    private var timer: Scheduled<Void>?
    private var timerDeadline: Instant?

    init(
        loop: any EventLoop, checker: any HealthCheckRunning, logger: Logger, random: any RandomNumberGenerator & Sendable,
        continuation: AsyncStream<HealthTransition<ID>>.Continuation, maximumChecksInFlight: Int
    ) {
        self.maximumChecksInFlight = maximumChecksInFlight
        self.loop = loop
        self.checker = checker
        self.logger = logger
        self.random = random
        self.continuation = continuation
    }

    private var now: Instant { LoopInstant(loop.now) }

    var running: Bool {
        if case .running = phase { return true }
        return false
    }

    func setTargets(_ targets: [ID: HealthTarget]) {
        let now = self.now
        for id in entries.keys where targets[id] == nil {
            entries[id] = nil
            scheduler.cancel(id)
        }
        for (id, target) in targets where entries[id]?.target != target {
            entries[id] = Entry(
                target: target, machine: RiseFallStateMachine(timing: target.timing), generation: nextGeneration)
            nextGeneration &+= 1
            let offset = CheckScheduler<ID, Instant>.spreadOffset(
                for: "\(target.endpoint) \(id)", interval: target.timing.interval)
            scheduler.schedule(id, at: now + offset)
        }
        armTimer()
    }

    func start(stopped: EventLoopPromise<Void>) {
        guard case .idle = phase else {
            stopped.succeed()
            preconditionFailure("HealthCheckEngine.run() called twice")
        }
        phase = .running(stopped: stopped)
        fire()
    }

    /// Stops checking; results of checks still in flight are dropped.
    func stop() {
        if case .running(let stopped) = phase { stopped.succeed() }
        phase = .stopped
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        continuation.finish()
    }

    /// Starts every due check, then sleeps until the next deadline.
    private func fire() {
        timer = nil
        timerDeadline = nil
        guard running else { return }
        let now = self.now
        for due in scheduler.popDue(now: now, limit: maximumChecksInFlight - checksInFlight) {
            guard let entry = entries[due.id] else { continue }
            checksInFlight += 1
            counters.peakInFlight = max(counters.peakInFlight, checksInFlight)
            counters.started += 1
            counters.lateness.record(due.deadline.duration(to: now))
            let generation = entry.generation
            let target = entry.target
            let core = NIOLoopBound(self, eventLoop: loop)
            checker.start(target.check, against: target.endpoint, timeout: target.timing.timeout)
                .hop(to: loop)
                .whenSuccess { result in
                    core.value.complete(due, generation: generation, startedAt: now, result: result)
                }
        }
        armTimer()
    }

    /// Makes sure a timer fires at the earliest deadline (not while the in-flight limit is reached: the next
    /// completion re-arms it).
    private func armTimer() {
        guard running, checksInFlight < maximumChecksInFlight, let next = scheduler.nextDeadline else { return }
        if let timerDeadline, timerDeadline <= next { return }
        timer?.cancel()
        timerDeadline = next
        let core = NIOLoopBound(self, eventLoop: loop)
        let wait = now.duration(to: next)
        timer = loop.scheduleTask(in: TimeAmount(max(wait, .zero))) { core.value.fire() }
    }

    private func complete(
        _ due: CheckScheduler<ID, Instant>.Due, generation: UInt64, startedAt: Instant, result: HealthCheckResult
    ) {
        checksInFlight -= 1
        guard running, var entry = entries[due.id], entry.generation == generation else {
            armTimer()
            return
        }
        let now = self.now
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
        let action = entry.machine.record(result, at: now)
        if case .inconclusive = result {
            // Not a check of the server: its last check stays the last real one.
        } else {
            let failure: HealthCheckFailure? = if case .failed(let reason) = result { reason } else { nil }
            entry.lastCheck = HealthCheckRecord(
                failure: failure, completedAt: now.deadline, duration: startedAt.duration(to: now))
        }
        entries[due.id] = entry

        switch action {
        case .none:
            break
        case .markUp:
            report(HealthTransition(target: due.id, endpoint: entry.target.endpoint, change: .up))
        case .markDown(let reason):
            report(HealthTransition(target: due.id, endpoint: entry.target.endpoint, change: .down(reason)))
        }

        let timing = entry.target.timing
        let next = CheckScheduler<ID, Instant>.followingDeadline(
            after: due.deadline, completedAt: now, interval: timing.interval, jitter: timing.jitter,
            random: Double.random(in: 0...1, using: &random))
        scheduler.schedule(due.id, at: next)
        armTimer()
    }

    private func report(_ transition: HealthTransition<ID>) {
        logger.notice("\(transition.logMessage)")
        continuation.yield(transition)
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
