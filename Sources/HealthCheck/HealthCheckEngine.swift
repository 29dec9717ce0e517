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
/// All state lives on one event loop of the checker's group (no locks, no task per check, no channel per check). A
/// NIO timer wakes it at the earliest deadline; while checks are in flight it wakes every `coalescing` interval and
/// polls them (``HealthProbes``), so one wake-up starts every check that came due and collects every answer that
/// came in meanwhile. That loop is also the engine's clock (``LoopInstant``): give it a checker on
/// `NIOAsyncTestingEventLoop` and it runs on virtual time. Usage: create it,
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
    ///   - coalescing: the engine wakes at most once per this interval. Checks start up to this late and their
    ///     results are seen up to this late; in exchange one wake-up serves many checks. A wake-up (a context switch
    ///     into the loop and out) cost more than the socket calls of a check: at 1,000 checks a second, 5 to 10 ms
    ///     took a minimal checker from 92 to 48-52 us of CPU per check (scripts/bench-healthcheck). `.zero` wakes
    ///     at every deadline (for a scripted checker on virtual time).
    public init(
        checker: some HealthCheckRunning = HealthChecker(),
        logger: Logger = Logger(label: "h2e.health"),
        random: some RandomNumberGenerator & Sendable = SplitMix64(),
        maximumChecksInFlight: Int = 2_048,
        coalescing: Duration = .milliseconds(10)
    ) {
        precondition(maximumChecksInFlight >= 1, "maximumChecksInFlight must be at least 1")
        precondition(coalescing >= .zero, "coalescing must not be negative")
        let (stream, continuation) = AsyncStream.makeStream(of: HealthTransition<ID>.self)
        self.transitions = stream
        self.loop = checker.group.next()
        self.core = NIOLoopBoundBox.makeBoxSendingValue(
            EngineCore(
                loop: loop, probes: checker.makeProbes(), logger: logger, random: random, continuation: continuation,
                maximumChecksInFlight: maximumChecksInFlight, coalescing: coalescing),
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
        await onLoop { $0.slot(of: id)?.machine.health } ?? nil
    }

    /// Every target's current verdict.
    public func healthSnapshot() async -> [ID: HealthState] {
        await onLoop { $0.mapSlots { $0.machine.health } } ?? [:]
    }

    /// The most recent completed check of every target that has had one.
    public func lastChecks() async -> [ID: HealthCheckRecord] {
        await onLoop { $0.mapSlots(\.lastCheck) } ?? [:]
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

/// The engine's state, confined to its event loop: the caller's names for the targets, mapped to the slots of the
/// ``CheckLoop`` that checks them.
final class EngineCore<ID: Hashable & Sendable> {
    let checks: CheckLoop
    private var slotOf: [ID: Int] = [:]
    private let names: SlotNames<ID>

    init(
        loop: any EventLoop, probes: any HealthProbes, logger: Logger, random: any RandomNumberGenerator & Sendable,
        continuation: AsyncStream<HealthTransition<ID>>.Continuation, maximumChecksInFlight: Int, coalescing: Duration
    ) {
        let names = SlotNames<ID>(logger: logger, continuation: continuation)
        self.names = names
        self.checks = CheckLoop(
            loop: loop, probes: probes, coalescing: coalescing, logger: logger, random: random,
            maximumChecksInFlight: maximumChecksInFlight, report: names.report)
    }

    var running: Bool { checks.running }

    var counters: HealthCheckStatistics {
        get { checks.counters }
        set { checks.counters = newValue }
    }

    func slot(of id: ID) -> CheckLoop.Slot? { slotOf[id].flatMap { checks.slots[$0] } }

    /// Every target's slot, by the caller's name.
    func mapSlots<T>(_ transform: (CheckLoop.Slot) -> T?) -> [ID: T] {
        var out: [ID: T] = [:]
        out.reserveCapacity(slotOf.count)
        for (id, slot) in slotOf {
            if let value = checks.slots[slot].flatMap(transform) { out[id] = value }
        }
        return out
    }

    func setTargets(_ targets: [ID: HealthTarget]) {
        for (id, slot) in slotOf where targets[id] == nil {
            checks.remove(slot)
            names.ids[slot] = nil
            slotOf[id] = nil
        }
        for (id, target) in targets {
            if let slot = slotOf[id] {
                guard checks.slots[slot]?.target != target else { continue }
                checks.remove(slot)
                names.ids[slot] = nil
            }
            let offset = CheckScheduler<ID, LoopInstant>.spreadOffset(
                for: "\(target.endpoint) \(id)", interval: target.timing.interval)
            let slot = checks.add(target, firstCheckIn: offset)
            names.name(slot, id)
            slotOf[id] = slot
        }
        checks.targetsChanged()
    }

    func start(stopped: EventLoopPromise<Void>) { checks.start(stopped: stopped) }

    /// Stops checking; results of checks still in flight are dropped.
    func stop() {
        checks.stop()
        names.finish()
    }
}

/// The caller's name of each slot, and where the slots' transitions go (the log and the engine's stream).
final class SlotNames<ID: Hashable & Sendable> {
    var ids: [ID?] = []
    private let logger: Logger
    private let continuation: AsyncStream<HealthTransition<ID>>.Continuation

    init(logger: Logger, continuation: AsyncStream<HealthTransition<ID>>.Continuation) {
        self.logger = logger
        self.continuation = continuation
    }

    func name(_ slot: Int, _ id: ID) {
        if slot >= ids.count { ids.append(contentsOf: repeatElement(nil, count: slot - ids.count + 1)) }
        ids[slot] = id
    }

    func report(_ slot: Int, _ endpoint: HealthEndpoint, _ action: CheckLoop.Action) {
        guard slot < ids.count, let id = ids[slot] else { return }
        let transition: HealthTransition<ID>
        switch action {
        case .none: return
        case .markUp: transition = HealthTransition(target: id, endpoint: endpoint, change: .up)
        case .markDown(let reason): transition = HealthTransition(target: id, endpoint: endpoint, change: .down(reason))
        }
        logger.notice("\(transition.logMessage)")
        continuation.yield(transition)
    }

    func finish() { continuation.finish() }
}
