/// The up/down decision for one real server, fed with check results and the instants they completed at.
///
/// Pure value type: time is a parameter, so it is tested with made-up instants. Rules (`HealthCheckTiming`):
/// - A server starts `.unknown`. Its first success marks it up at once (a director that just started does not hold
///   healthy servers back for `reentry`); `fall` consecutive failures mark it down.
/// - Up: `fall` consecutive failures (default 1, Piranha) mark it down; a success resets the count.
/// - Down: it comes back at the first success that is at least `reentry` after the first success of an unbroken run
///   of successes; any failure restarts the run. With `reentry` zero the first success brings it back.
///
/// Flap damping follows: a server that fails now and then never returns before `reentry` of clean checks, so it
/// moves out and in at most once per `reentry` plus one interval.
public struct RiseFallStateMachine<Instant: InstantProtocol & Sendable>: Sendable where Instant.Duration == Duration {
    /// What the caller must do after feeding a result.
    public enum Action: Hashable, Sendable {
        /// Nothing changes.
        case none
        /// Put the server (back) into service.
        case markUp
        /// Take the server out of service.
        case markDown(HealthCheckFailure)
    }

    enum State: Hashable, Sendable {
        case unknown(failures: Int)
        case up(failures: Int)
        /// `streakStart`: the first success of the current unbroken run of successes, nil after a failure.
        case down(reason: HealthCheckFailure, streakStart: Instant?)
    }

    public let fall: Int
    public let reentry: Duration
    private(set) var state: State = .unknown(failures: 0)

    public init(fall: Int = 1, reentry: Duration = .seconds(180)) {
        precondition(fall >= 1, "fall must be at least 1")
        self.fall = fall
        self.reentry = reentry
    }

    public init(timing: HealthCheckTiming) {
        self.init(fall: timing.fall, reentry: timing.reentry)
    }

    /// The current verdict.
    public var health: HealthState {
        switch state {
        case .unknown: .unknown
        case .up: .up
        case .down(let reason, _): .down(reason)
        }
    }

    /// When a down server will come back if every check from now on succeeds: nil when it is not down or its
    /// success run has not started.
    public var earliestReentry: Instant? {
        if case .down(_, let start?) = state { return start.advanced(by: reentry) }
        return nil
    }

    /// Feed any check result: a pass or a failure moves the state as ``checkSucceeded(at:)`` and
    /// ``checkFailed(at:reason:)`` say; an inconclusive one (a local error on this director, see
    /// ``LocalCheckError``) changes nothing: not the verdict, not the count of failures, not a success run.
    public mutating func record(_ result: HealthCheckResult, at now: Instant) -> Action {
        switch result {
        case .passed: checkSucceeded(at: now)
        case .failed(let reason): checkFailed(at: now, reason: reason)
        case .inconclusive: .none
        }
    }

    /// Feed a passed check that completed at `now`.
    public mutating func checkSucceeded(at now: Instant) -> Action {
        switch state {
        case .unknown:
            state = .up(failures: 0)
            return .markUp
        case .up:
            state = .up(failures: 0)
            return .none
        case .down(let reason, let streakStart):
            let start = streakStart ?? now
            if start.duration(to: now) >= reentry {
                state = .up(failures: 0)
                return .markUp
            }
            state = .down(reason: reason, streakStart: start)
            return .none
        }
    }

    /// Feed a failed check that completed at `now`.
    public mutating func checkFailed(at now: Instant, reason: HealthCheckFailure) -> Action {
        switch state {
        case .unknown(let failures):
            if failures + 1 >= fall {
                state = .down(reason: reason, streakStart: nil)
                return .markDown(reason)
            }
            state = .unknown(failures: failures + 1)
            return .none
        case .up(let failures):
            if failures + 1 >= fall {
                state = .down(reason: reason, streakStart: nil)
                return .markDown(reason)
            }
            state = .up(failures: failures + 1)
            return .none
        case .down:
            // The success run restarts; `health` shows the latest reason (the transition carried the first).
            state = .down(reason: reason, streakStart: nil)
            return .none
        }
    }
}
