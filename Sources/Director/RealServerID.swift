/// One real server of one virtual server, as lvs.cf names them: `virtual NAME { server NAME { ... } }`.
///
/// The director keys everything it tracks per real server (health, load, weight) by this id; a server that is in
/// two virtual servers is two ids, checked and weighted separately.
public struct RealServerID: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    /// The virtual server's name in lvs.cf.
    public var virtual: String
    /// The real server's name in lvs.cf.
    public var server: String

    public init(virtual: String, server: String) {
        self.virtual = virtual
        self.server = server
    }

    public var description: String { "\(virtual)/\(server)" }

    public static func < (lhs: RealServerID, rhs: RealServerID) -> Bool {
        (lhs.virtual, lhs.server) < (rhs.virtual, rhs.server)
    }
}
