/// An invalid heartbeat setting in lvs.cf. Each message says what to change.
public enum HeartbeatConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    case keepaliveNotPositive
    case deadtimeNotAboveKeepalive(keepalive: Duration, deadtime: Duration)
    case linkCount(Int)

    public var description: String {
        switch self {
        case .keepaliveNotPositive:
            "keepalive must be a positive number of seconds"
        case .deadtimeNotAboveKeepalive(let keepalive, let deadtime):
            "deadtime (\(deadtime)) must be greater than keepalive (\(keepalive)), ideally several keepalives"
        case .linkCount(let count):
            "a director needs between 1 and 255 heartbeat links, not \(count)"
        }
    }
}
