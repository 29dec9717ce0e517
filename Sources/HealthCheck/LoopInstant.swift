import NIOCore

/// A point in an event loop's time (`EventLoop.now`): the monotonic clock on a real loop, virtual time on NIO's
/// testing loops (`NIOAsyncTestingEventLoop.advanceTime(by:)`). The health-check engine takes every instant and
/// every timer from its loop, so that loop is the clock injected into it.
public struct LoopInstant: InstantProtocol, Sendable, Hashable {
    public var deadline: NIODeadline

    public init(_ deadline: NIODeadline) {
        self.deadline = deadline
    }

    public func advanced(by duration: Duration) -> LoopInstant {
        LoopInstant(deadline + TimeAmount(duration))
    }

    public func duration(to other: LoopInstant) -> Duration {
        .nanoseconds(Int64(bitPattern: other.deadline.uptimeNanoseconds &- deadline.uptimeNanoseconds))
    }

    public static func + (lhs: LoopInstant, rhs: Duration) -> LoopInstant { lhs.advanced(by: rhs) }

    public static func < (lhs: LoopInstant, rhs: LoopInstant) -> Bool {
        lhs.deadline < rhs.deadline
    }
}

/// What runs checks for an engine: ``HealthChecker`` against real servers; a scripted runner in tests.
public protocol HealthCheckRunning: Sendable {
    /// The loops of the checker; the engine keeps its state on one of them and takes its time from it.
    var group: any EventLoopGroup { get }
    /// A new, empty set of checks in flight, used only on the engine's loop.
    func makeProbes() -> any HealthProbes
}

extension HealthChecker: HealthCheckRunning {}
