import NIOCore

/// The outcome of the most recent check of one target: what `status` shows as "last check" and when.
public struct HealthCheckRecord: Hashable, Sendable {
    /// nil when the check passed.
    public var failure: HealthCheckFailure?
    /// On the engine's loop clock (`EventLoop.now`, the monotonic clock in production).
    public var completedAt: NIODeadline
    public var duration: Duration

    public var passed: Bool { failure == nil }

    public init(failure: HealthCheckFailure?, completedAt: NIODeadline, duration: Duration) {
        self.failure = failure
        self.completedAt = completedAt
        self.duration = duration
    }
}
