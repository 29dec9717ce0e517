import Addressing
import HostSystem

/// An h2e-agent's address and port, as the director connects to it: what ``AgentClient/Target`` asks and what
/// ``AgentConnectionPool`` keeps a connection to (`10.0.0.21:8181`, `[2001:db8::1]:8181`).
public typealias AgentEndpoint = HostPort
