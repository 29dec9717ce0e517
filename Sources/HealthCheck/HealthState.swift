/// What the health checks currently say about one real server.
public enum HealthState: Hashable, Sendable, CustomStringConvertible {
    /// No verdict yet: the server has not been checked since it was added.
    case unknown
    /// The server passes its checks and belongs in the IPVS table.
    case up
    /// The server failed (see the reason) and stays out until it has passed checks for `reentry`.
    case down(HealthCheckFailure)

    /// `unknown`, `up` or `down`: the word `status` and its JSON show.
    public var name: String {
        switch self {
        case .unknown: "unknown"
        case .up: "up"
        case .down: "down"
        }
    }

    public var description: String {
        switch self {
        case .unknown: "unknown"
        case .up: "up"
        case .down(let reason): "down (\(reason))"
        }
    }
}
