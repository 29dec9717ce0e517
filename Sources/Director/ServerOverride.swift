import Addressing

/// An operator's override of one real server (`h2e-director server drain|down|up VIRTUAL ADDRESS`), kept until
/// undone: `up` clears `drain` and `down`, and also forces a server in whatever its health checks say.
public enum ServerOverride: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Weight 0: no new connections, existing ones finish.
    case drain
    /// Out of the IPVS table.
    case down
    /// In the table whatever its health checks say (its weight is still the configured or fed-back one).
    case up

    public var description: String { rawValue }
}

/// What an override names: a virtual server (its lvs.cf name) and a real server address in it.
public struct OverrideKey: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public var virtual: String
    /// The real server's address as lvs.cf writes it (canonical text of `IPAddress`).
    public var address: String

    public init(virtual: String, address: String) {
        self.virtual = virtual
        self.address = address
    }

    public var description: String { "\(virtual) \(address)" }

    public static func < (lhs: OverrideKey, rhs: OverrideKey) -> Bool {
        (lhs.virtual, lhs.address) < (rhs.virtual, rhs.address)
    }
}
