import Addressing

/// A `server NAME { ... }` block inside a virtual server: one IPVS destination.
public struct RealServer: Hashable, Sendable {
    public var name: String
    /// `address`: the server's address. Required.
    public var address: IPAddress
    /// `port`: the port on the server; nil means the virtual server's port.
    public var port: UInt16?
    /// `weight`: configured IPVS weight, 0...65535. Default 1.
    public var weight: Int = 1
    /// `active`: 1 to use this server. Default 0, as in Piranha: a block without `active = 1` is not used.
    public var active: Bool = false
    /// `max_weight` (h2e): the highest weight load feedback may give; nil leaves the cap to the weight policy.
    public var maxWeight: Int?
    /// `server_id` (h2e): the id this server's h2e-agent reports (its `--server-id`, the `server` of /load.json and
    /// its X-SERVER header). When set, a load answer from another id is not used: the weight is held as for an
    /// unreadable load, and the status says which id answered. It catches an agent address that reaches the wrong
    /// machine (a reused IP, a NAT or port forward gone astray). Nil: not checked.
    public var serverID: String?

    public init(name: String, address: IPAddress) {
        self.name = name
        self.address = address
    }
}
