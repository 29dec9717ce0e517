import Synchronization

/// A `Clock` on ``TestInstant`` whose sleeps return at once, moving its time to their deadline and recording
/// how long each was: for code that paces itself with a clock, tested without waiting.
public final class SkippingClock: Clock, Sendable {
    public typealias Instant = TestInstant
    private let state = Mutex<(now: TestInstant, sleeps: [Duration])>((.zero, []))

    public init() {}

    public var now: TestInstant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .nanoseconds(1) }
    /// Every sleep so far, in order.
    public var sleeps: [Duration] { state.withLock { $0.sleeps } }

    public func sleep(until deadline: TestInstant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        state.withLock {
            $0.sleeps.append($0.now.duration(to: deadline))
            if $0.now < deadline { $0.now = deadline }
        }
        await Task.yield()
    }
}
