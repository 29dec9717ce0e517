import Addressing

/// `IP dev[:alias]`, as in `address = 10.0.0.10 eth0:1` and `nat_router = 192.168.1.254 eth1:1`: an address and
/// the interface (and optional alias label) the active director puts it on.
public struct InterfaceAddress: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    /// Interface name, e.g. `eth0`.
    public var device: String
    /// Alias label after the colon, e.g. `1` in `eth0:1`.
    public var alias: String?

    public init(address: IPAddress, device: String, alias: String? = nil) {
        self.address = address
        self.device = device
        self.alias = alias
    }

    /// `eth0:1`, or `eth0` without an alias.
    public var deviceLabel: String { alias.map { "\(device):\($0)" } ?? device }

    public var description: String { "\(address) \(deviceLabel)" }
}
