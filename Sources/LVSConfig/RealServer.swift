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

    public init(name: String, address: IPAddress) {
        self.name = name
        self.address = address
    }
}
