/// An h2e-agent's address and port, as the director connects to it: what ``AgentClient/Target`` asks and what
/// ``AgentConnectionPool`` keeps a connection to.
public struct AgentEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `10.0.0.21:8181`, `[2001:db8::1]:8181`.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
