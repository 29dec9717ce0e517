import Logging

/// Checks every target on its schedule and reports up/down transitions.
///
/// The engine only does I/O and bookkeeping: `CheckScheduler` decides which check is due, `HealthChecker` runs it,
/// `RiseFallStateMachine` turns the result into a transition. Transitions arrive on `transitions` and are logged
/// one line each, as nanny did (`[inactive] shutting down 10.0.0.2:80 due to ...`, `[ active ] making 10.0.0.2:80
/// available`); routine checks log nothing.
///
/// Usage: create it, `setTargets(_:)`, then call `run()` in a task and consume `transitions`; cancelling the task
/// stops the checks and finishes the stream. Each target has at most one check in flight.
public actor HealthCheckEngine<ID: Hashable & Sendable> {
    public typealias Instant = ContinuousClock.Instant

    private struct Entry {
        var target: HealthTarget
        var machine: RiseFallStateMachine<Instant>
        var generation: UInt64
    }

    /// Every transition, in the order they were decided.
    public nonisolated let transitions: AsyncStream<HealthTransition<ID>>
    private let continuation: AsyncStream<HealthTransition<ID>>.Continuation
    private let checker: HealthChecker
    private let logger: Logger
    private var random: any RandomNumberGenerator & Sendable

    private var entries: [ID: Entry] = [:]
    private var scheduler = CheckScheduler<ID, Instant>()
    private var nextGeneration: UInt64 = 0
    private var counters = HealthCheckStatistics()
    private var running = false
    private var sleeper: Task<Void, Never>?
    private var sleepingUntil: Instant?

    /// - Parameters:
    ///   - checker: runs the checks (its event loop group and thread pool).
    ///   - logger: gets one `notice` line per transition.
    ///   - random: spreads intervals by each target's `jitter`; inject a seeded generator for reproducible runs.
    public init(
        checker: HealthChecker = HealthChecker(),
        logger: Logger = Logger(label: "h2e.health"),
        random: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        (self.transitions, self.continuation) = AsyncStream.makeStream(of: HealthTransition<ID>.self)
        self.checker = checker
        self.logger = logger
        self.random = random
    }

    /// Replaces the set of targets. New targets (and targets whose endpoint, check or timing changed) start as
    /// `.unknown`, first checked at their spread offset within one interval; removed targets stop being checked
    /// and report nothing more (a check of theirs still in flight is ignored); unchanged targets keep their state
    /// and schedule.
    public func setTargets(_ targets: [ID: HealthTarget]) {
        let now = ContinuousClock.now
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
            schedule(id, at: now + offset)
        }
    }

    /// The current verdict on `id`, or nil when it is not a target.
    public func health(of id: ID) -> HealthState? { entries[id]?.machine.health }

    /// Every target's current verdict.
    public func healthSnapshot() -> [ID: HealthState] { entries.mapValues { $0.machine.health } }

    /// Counters since the start or the last reset.
    public func statistics(reset: Bool = false) -> HealthCheckStatistics {
        defer { if reset { counters = HealthCheckStatistics() } }
        return counters
    }

    /// Runs the checks until the calling task is cancelled, then finishes `transitions`. Call it once.
    public func run() async {
        precondition(!running, "HealthCheckEngine.run() called twice")
        running = true
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let now = ContinuousClock.now
                for due in scheduler.popDue(now: now) {
                    guard let entry = entries[due.id] else { continue }
                    counters.started += 1
                    counters.lateness.record(due.deadline.duration(to: now))
                    let checker = self.checker
                    let generation = entry.generation
                    let target = entry.target
                    group.addTask {
                        let result = await checker.run(
                            target.check, against: target.endpoint, timeout: target.timing.timeout)
                        await self.complete(due, generation: generation, result: result)
                    }
                }
                await sleep(until: scheduler.nextDeadline ?? now + .seconds(3_600))
            }
        }
        continuation.finish()
    }

    private func complete(_ due: CheckScheduler<ID, Instant>.Due, generation: UInt64, result: HealthCheckResult) {
        guard var entry = entries[due.id], entry.generation == generation else { return }
        let now = ContinuousClock.now
        let action: RiseFallStateMachine<Instant>.Action
        switch result {
        case .passed:
            counters.passed += 1
            action = entry.machine.checkSucceeded(at: now)
        case .failed(let reason):
            counters.failed += 1
            if reason == .timeout { counters.timedOut += 1 }
            action = entry.machine.checkFailed(at: now, reason: reason)
        }
        let timing = entry.target.timing
        entries[due.id] = entry

        switch action {
        case .none:
            break
        case .markUp:
            report(HealthTransition(target: due.id, endpoint: entry.target.endpoint, change: .up))
        case .markDown(let reason):
            report(HealthTransition(target: due.id, endpoint: entry.target.endpoint, change: .down(reason)))
        }

        let next = CheckScheduler<ID, Instant>.followingDeadline(
            after: due.deadline, completedAt: now, interval: timing.interval, jitter: timing.jitter,
            random: Double.random(in: 0...1, using: &random))
        schedule(due.id, at: next)
    }

    private func report(_ transition: HealthTransition<ID>) {
        logger.notice("\(transition.logMessage)")
        continuation.yield(transition)
    }

    private func schedule(_ id: ID, at deadline: Instant) {
        scheduler.schedule(id, at: deadline)
        // The run loop sleeps until the earliest deadline it knew; wake it for an earlier one.
        if let sleepingUntil, deadline < sleepingUntil { sleeper?.cancel() }
    }

    /// Sleeps until `deadline`, or less when `schedule` cancels the sleep for an earlier deadline.
    private func sleep(until deadline: Instant) async {
        let sleep = Task.detached { _ = try? await Task.sleep(until: deadline, clock: .continuous) }
        sleeper = sleep
        sleepingUntil = deadline
        await withTaskCancellationHandler {
            await sleep.value
        } onCancel: {
            sleep.cancel()
        }
        sleeper = nil
        sleepingUntil = nil
    }
}
