/// The failover services (`service = fos`) of one director, without I/O: it consumes role changes, check results,
/// finished commands and timer ticks, and returns the actions to perform. Time is passed in, so it runs under a test
/// clock. The VIPs are not its business: they follow the director's role (``RoleService``).
///
/// Rules (docs/lvs.cf.md, "Failover services"):
/// - At start every service is stopped once (``cleanUp(now:)``): a killed run may have left it running, as it may
///   have left its VIPs.
/// - Active: every service is started (`start_cmd`), then checked every `interval`; the first check comes one
///   interval after `start_cmd` finished. Backup: every service that runs is stopped (`stop_cmd`).
/// - A failed check or a failed `start_cmd` fails the director: every service is stopped and
///   ``Action/setServicesFailed(_:)`` tells the heartbeat, which announces this director unfit; an active director
///   with a fit live peer then steps down and the peer takes over.
/// - A failed director stays failed (unfit: it takes no VIPs from a live peer) for a hold-down that doubles with
///   each consecutive failure, from `holdDown` up to `maximumHoldDown`; it stays failed while it is active and its
///   services do not pass. The count of consecutive failures is forgotten after the services have passed for a
///   whole hold-down.
/// - A failed director that stays active (its peer is dead, stopping, or failed too) keeps the VIPs and starts its
///   services again after a retry delay that doubles from `retryDelay` up to `holdDown`. When both directors
///   failed, the VIPs therefore stay where they are and move at most once per hold-down, which keeps doubling: no
///   ping-pong.
public struct FailoverServiceMachine<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public struct Configuration: Sendable, Hashable {
        /// The services, in lvs.cf order, and each one's check interval (its `timeout`).
        public var services: [String]
        public var interval: [String: Duration]
        public var holdDown: Duration
        public var maximumHoldDown: Duration
        public var retryDelay: Duration

        public init(
            services: [String], interval: [String: Duration], holdDown: Duration = .seconds(30),
            maximumHoldDown: Duration = .seconds(240), retryDelay: Duration = .seconds(5)
        ) {
            self.services = services
            self.interval = interval
            self.holdDown = holdDown
            self.maximumHoldDown = maximumHoldDown
            self.retryDelay = retryDelay
        }
    }

    public enum Command: String, Sendable, Hashable, CaseIterable {
        case start
        case stop
    }

    public enum Action: Sendable, Hashable {
        /// Run `start_cmd` or `stop_cmd` of `service`; report with ``commandFinished(_:_:succeeded:now:)``.
        case run(Command, service: String)
        /// Check `service` once; report with ``checkFinished(_:passed:now:)``.
        case check(service: String)
        /// Tell the heartbeat whether this director's services failed (its fit flag).
        case setServicesFailed(Bool)
        /// Call ``timerFired(now:)`` at this instant (replaces any earlier timer).
        case scheduleTimer(at: Instant)
    }

    /// Where one service is.
    public enum Phase: Sendable, Hashable {
        case stopped
        /// `start_cmd` runs; `thenStop`: the director stepped down or failed meanwhile.
        case starting(thenStop: Bool)
        /// Started; checked at `nextCheck` (`checking` while a check runs); `passed`: a check passed since it started.
        case running(nextCheck: Instant, checking: Bool, passed: Bool)
        case stopping
        /// Stopped after a failure; started again at this instant if still active.
        case waitingToRetry(at: Instant)
    }

    public let configuration: Configuration
    public private(set) var phases: [String: Phase]
    public private(set) var active = false
    /// True while this director's services count as failed (announced unfit).
    public private(set) var failed = false
    /// When a backup's failure ends.
    public private(set) var failedUntil: Instant?
    public private(set) var consecutiveFailures = 0
    /// Service failures (failed checks or start_cmd) since start.
    public private(set) var failures = 0
    private var retryAt: Instant?
    private var healthySince: Instant?
    private var shuttingDown = false

    public init(configuration: Configuration) {
        self.configuration = configuration
        phases = Dictionary(uniqueKeysWithValues: configuration.services.map { ($0, Phase.stopped) })
    }

    /// Whether every service is stopped (after ``stop(now:)``: the shutdown may proceed).
    public var allStopped: Bool { phases.values.allSatisfy { if case .stopped = $0 { true } else { false } } }

    /// The hold-down after the `count`th consecutive failure.
    public func holdDown(afterFailures count: Int) -> Duration {
        Self.doubling(configuration.holdDown, count, cap: configuration.maximumHoldDown)
    }

    /// The retry delay after the `count`th consecutive failure.
    public func retryDelay(afterFailures count: Int) -> Duration {
        Self.doubling(configuration.retryDelay, count, cap: configuration.holdDown)
    }

    private static func doubling(_ base: Duration, _ count: Int, cap: Duration) -> Duration {
        var value = base
        for _ in 1..<max(count, 1) where value < cap { value = value * 2 }
        return min(value, cap)
    }

    /// At start, before any role change: runs every `stop_cmd` once, for services a killed run left behind. A role
    /// change meanwhile waits for the stops (an active director then starts the services).
    public mutating func cleanUp(now: Instant) -> [Action] {
        guard !active, !shuttingDown, allStopped else { return [] }
        return configuration.services.map { name in
            phases[name] = .stopping
            return .run(.stop, service: name)
        }
    }

    /// The director became active (`true`) or backup.
    public mutating func roleChanged(active: Bool, now: Instant) -> [Action] {
        guard !shuttingDown, active != self.active else { return [] }
        self.active = active
        var actions: [Action] = []
        for name in configuration.services {
            switch phases[name]! {
            case .stopped where active:
                phases[name] = .starting(thenStop: false)
                actions.append(.run(.start, service: name))
            case .starting(thenStop: let thenStop) where !active && !thenStop:
                phases[name] = .starting(thenStop: true)
            case .running where !active:
                phases[name] = .stopping
                actions.append(.run(.stop, service: name))
            case .waitingToRetry where !active:
                phases[name] = .stopped
            default:
                break
            }
        }
        return actions + timer(now: now)
    }

    /// A check of `service` finished.
    public mutating func checkFinished(_ service: String, passed: Bool, now: Instant) -> [Action] {
        guard case .running(_, true, let before)? = phases[service] else { return [] }
        phases[service] = .running(
            nextCheck: now.advanced(by: interval(service)), checking: false, passed: before || passed)
        guard passed else { return fail(now: now) + timer(now: now) }
        var actions: [Action] = []
        let allPassed = phases.values.allSatisfy { if case .running(_, _, true) = $0 { true } else { false } }
        if allPassed {
            if failed {
                failed = false
                failedUntil = nil
                healthySince = now
                actions.append(.setServicesFailed(false))
            } else if let since = healthySince, since.duration(to: now) >= holdDown(afterFailures: consecutiveFailures) {
                consecutiveFailures = 0
            } else if healthySince == nil {
                healthySince = now
            }
        }
        return actions + timer(now: now)
    }

    /// `start_cmd` or `stop_cmd` of `service` finished.
    public mutating func commandFinished(_ service: String, _ command: Command, succeeded: Bool, now: Instant) -> [Action] {
        switch (command, phases[service]) {
        case (.start, .starting(let thenStop)?):
            if thenStop || shuttingDown {
                phases[service] = .stopping
                return [.run(.stop, service: service)] + timer(now: now)
            }
            phases[service] = .running(nextCheck: now.advanced(by: interval(service)), checking: false, passed: false)
            return (succeeded ? [] : fail(now: now)) + timer(now: now)
        case (.stop, .stopping?):
            if active && !shuttingDown {
                if failed, let retryAt, retryAt > now {
                    phases[service] = .waitingToRetry(at: retryAt)
                } else {
                    phases[service] = .starting(thenStop: false)
                    return [.run(.start, service: service)] + timer(now: now)
                }
            } else {
                phases[service] = .stopped
            }
            return timer(now: now)
        default:
            return []
        }
    }

    /// The timer requested by ``Action/scheduleTimer(at:)``; early or late calls are harmless.
    public mutating func timerFired(now: Instant) -> [Action] {
        var actions: [Action] = []
        for name in configuration.services {
            switch phases[name]! {
            case .running(let next, false, let passed) where next <= now && active && !shuttingDown:
                phases[name] = .running(nextCheck: next, checking: true, passed: passed)
                actions.append(.check(service: name))
            case .waitingToRetry(let at) where at <= now:
                phases[name] = .starting(thenStop: false)
                actions.append(.run(.start, service: name))
            default:
                break
            }
        }
        if failed, !active, let until = failedUntil, until <= now {
            failed = false
            failedUntil = nil
            actions.append(.setServicesFailed(false))
        }
        return actions + timer(now: now)
    }

    /// A clean shutdown: stops every service that runs; done when ``allStopped``.
    public mutating func stop(now: Instant) -> [Action] {
        guard !shuttingDown else { return [] }
        shuttingDown = true
        return stopEveryService(cancellingRetries: true)
    }

    /// Stops every running service (one still starting stops once started); a pending retry is dropped only
    /// when `cancellingRetries` (a shutdown), since a failed director keeps retrying while it holds the VIPs.
    private mutating func stopEveryService(cancellingRetries: Bool) -> [Action] {
        var actions: [Action] = []
        for name in configuration.services {
            switch phases[name]! {
            case .running:
                phases[name] = .stopping
                actions.append(.run(.stop, service: name))
            case .starting:
                phases[name] = .starting(thenStop: true)
            case .waitingToRetry where cancellingRetries:
                phases[name] = .stopped
            case .waitingToRetry, .stopped, .stopping:
                break
            }
        }
        return actions
    }

    /// A failure of one service: every service is stopped, and the director fails (unless already failed).
    private mutating func fail(now: Instant) -> [Action] {
        guard active, !shuttingDown else { return [] }
        failures += 1
        consecutiveFailures += 1
        healthySince = nil
        retryAt = now.advanced(by: retryDelay(afterFailures: consecutiveFailures))
        failedUntil = now.advanced(by: holdDown(afterFailures: consecutiveFailures))
        var actions = stopEveryService(cancellingRetries: false)
        if !failed {
            failed = true
            actions.append(.setServicesFailed(true))
        }
        return actions
    }

    private func interval(_ service: String) -> Duration { configuration.interval[service] ?? .seconds(10) }

    /// The next instant something is due, if any.
    private func timer(now: Instant) -> [Action] {
        var due: [Instant] = []
        for phase in phases.values {
            switch phase {
            case .running(let next, false, _) where active && !shuttingDown: due.append(next)
            case .waitingToRetry(let at): due.append(at)
            default: break
            }
        }
        if failed, !active, let until = failedUntil { due.append(until) }
        return due.min().map { [.scheduleTimer(at: $0)] } ?? []
    }
}
