import Synchronization

/// A `Clock` on ``TestInstant`` whose time moves only when the test calls ``advance(by:)``: for code that runs its
/// own timers (keepalives, deadlines), tested on exact instants instead of wall-clock bounds.
///
/// Contract:
/// - A sleep until an instant already reached returns at once; any other sleep returns when ``advance(by:)`` reaches
///   its deadline. One advance resumes every sleeper it passes, earliest deadline first, after the clock reads the new
///   time: a sleeper that wakes reads the instant the test advanced to, not its deadline.
/// - A cancelled sleep throws `CancellationError` at once, whether it was cancelled before or while it waited.
/// - Waking only resumes the sleeping tasks: what they do next runs concurrently with the test, which waits for its
///   effect (a polling wait with a deadline) before asserting on it.
public final class ManualClock: Clock, Sendable {
    public typealias Instant = TestInstant

    private struct Sleeper {
        var deadline: TestInstant
        /// nil until the sleeping task has suspended.
        var continuation: CheckedContinuation<Void, any Error>?
        /// Cancelled before it suspended: it must throw instead of waiting.
        var cancelled = false
    }

    private struct State {
        var now: TestInstant
        var nextID: UInt64 = 0
        var sleepers: [UInt64: Sleeper] = [:]
    }

    private let state: Mutex<State>

    public init(now: TestInstant = .zero) {
        state = Mutex(State(now: now))
    }

    public var now: TestInstant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .nanoseconds(1) }

    /// The deadlines of the sleeps still waiting, earliest first.
    public var deadlines: [TestInstant] { state.withLock { $0.sleepers.values.map(\.deadline).sorted() } }

    /// Moves the time forward by `duration` (not negative) and wakes the sleepers whose deadline it reached.
    public func advance(by duration: Duration) {
        precondition(duration >= .zero, "a clock does not go back")
        let woken = state.withLock { state -> [(TestInstant, CheckedContinuation<Void, any Error>)] in
            state.now = state.now.advanced(by: duration)
            var woken: [(TestInstant, CheckedContinuation<Void, any Error>)] = []
            for (id, sleeper) in state.sleepers where sleeper.deadline <= state.now {
                // One still on its way to suspending finds its deadline reached when it gets there.
                guard let continuation = sleeper.continuation else { continue }
                state.sleepers[id] = nil
                woken.append((sleeper.deadline, continuation))
            }
            return woken
        }
        // Resumed outside the lock, which the woken tasks take again at once (to read `now`, to sleep again).
        for (_, continuation) in woken.sorted(by: { $0.0 < $1.0 }) { continuation.resume() }
    }

    public func sleep(until deadline: TestInstant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            state.sleepers[state.nextID] = Sleeper(deadline: deadline)
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Result<Void, any Error>? in
                    // Still registered: only this closure stores the continuation that waking or cancelling needs.
                    let sleeper = state.sleepers[id]!
                    if sleeper.cancelled || deadline <= state.now {
                        state.sleepers[id] = nil
                        return sleeper.cancelled ? .failure(CancellationError()) : .success(())
                    }
                    state.sleepers[id]?.continuation = continuation
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let sleeper = state.sleepers[id] else { return nil }  // already woken
                guard let continuation = sleeper.continuation else {
                    state.sleepers[id]?.cancelled = true  // not suspended yet: it throws when it gets there
                    return nil
                }
                state.sleepers[id] = nil
                return continuation
            }
            continuation?.resume(throwing: CancellationError())
        }
    }
}
