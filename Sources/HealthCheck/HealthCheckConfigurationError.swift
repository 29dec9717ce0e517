/// A health check that cannot be built from its configuration. Raised when the check is constructed, never while
/// it runs.
public enum HealthCheckConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The real server's address is not a numeric IPv4/IPv6 address, or its port is not in 1...65535.
    case invalidAddress(host: String, port: Int)
    /// `use_regex` is set and `expect` is not a valid POSIX extended regular expression.
    case invalidRegex(pattern: String, message: String)
    /// A timing value is out of range (e.g. a zero timeout or `fall` below 1).
    case invalidTiming(String)
    /// `send_program` is empty.
    case emptyProgram

    public var description: String {
        switch self {
        case .invalidAddress(let host, let port):
            "invalid real server \(host) port \(port): use a numeric IPv4 or IPv6 address and a port in 1...65535"
        case .invalidRegex(let pattern, let message):
            "expect \"\(pattern)\" is not a valid POSIX extended regular expression (\(message)): "
                + "fix the pattern or remove use_regex"
        case .invalidTiming(let message):
            "invalid health check timing: \(message)"
        case .emptyProgram:
            "send_program is empty: give a command line (%h and %p are replaced by the server's address and port)"
        }
    }
}
