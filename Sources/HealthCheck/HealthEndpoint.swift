import Addressing
import HostSystem
import NIOCore

/// The address and port of one real server as a health check reaches it.
///
/// The host is a numeric IPv4 or IPv6 address (a real server in lvs.cf is always an address); for fwmark services
/// the port comes from the virtual or real server's `port`. Construction validates the address, so an engine
/// never meets an endpoint it cannot connect to for a configuration reason.
public struct HealthEndpoint: Hashable, Sendable, CustomStringConvertible {
    /// Numeric address as written, e.g. `10.0.0.2` or `fd00::2`.
    public let host: String
    public let port: Int
    /// The socket address checks connect to.
    public let socketAddress: SocketAddress

    /// - Throws: `HealthCheckConfigurationError.invalidAddress` when `host` is not a numeric IPv4/IPv6 address or
    ///   `port` is outside 1...65535.
    public init(host: String, port: Int) throws(HealthCheckConfigurationError) {
        guard (1...65_535).contains(port) else {
            throw .invalidAddress(host: host, port: port)
        }
        do {
            self.socketAddress = try SocketAddress(ipAddress: host, port: port)
        } catch {
            throw .invalidAddress(host: host, port: port)
        }
        self.host = host
        self.port = port
    }

    /// `10.0.0.2:80`, or `[fd00::2]:80` for IPv6: the form nanny-style log lines use.
    public var description: String { HostPort(host: host, port: port).description }

    public static func == (lhs: HealthEndpoint, rhs: HealthEndpoint) -> Bool {
        lhs.host == rhs.host && lhs.port == rhs.port
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(host)
        hasher.combine(port)
    }
}
