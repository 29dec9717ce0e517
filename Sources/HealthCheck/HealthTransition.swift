/// A real server changed state: what the director turns into IPVS changes (add the destination, or remove/quiesce
/// it).
public struct HealthTransition<ID: Hashable & Sendable>: Hashable, Sendable {
    public enum Change: Hashable, Sendable {
        case up
        case down(HealthCheckFailure)
    }

    /// The caller's name for the target (e.g. virtual server and real server).
    public var target: ID
    public var endpoint: HealthEndpoint
    public var change: Change

    public init(target: ID, endpoint: HealthEndpoint, change: Change) {
        self.target = target
        self.endpoint = endpoint
        self.change = change
    }

    /// nanny's log line for the transition:
    /// `[inactive] shutting down 10.0.0.2:80 due to connection failure (...)` or
    /// `[ active ] making 10.0.0.2:80 available`.
    public var logMessage: String {
        switch change {
        case .up: "[ active ] making \(endpoint) available"
        case .down(let reason): "[inactive] shutting down \(endpoint) due to \(reason)"
        }
    }
}
