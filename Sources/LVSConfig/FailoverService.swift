import Addressing

/// A `failover NAME { ... }` block (`service = fos`): a service the active director runs itself, started with
/// `start_cmd`, stopped with `stop_cmd`, and checked with send/expect on `port`.
public struct FailoverService: Hashable, Sendable {
    public var name: String
    /// `active`: 1 to run it. Default 0.
    public var active: Bool = false
    /// `address = IP dev[:alias]`: the service address the active director holds. Required.
    public var address: InterfaceAddress
    /// `vip_nmask`: netmask the address is added with.
    public var vipNetmask: Netmask?
    /// `port`: port checked. Default 80.
    public var port: UInt16 = 80
    /// `protocol`: `tcp` or `udp`. Default tcp.
    public var `protocol`: TransportProtocol = .tcp
    public var clientMonitor: String?
    public var send: String?
    public var expect: String?
    public var useRegex: Bool = false
    public var sendProgram: String?
    /// `timeout`: seconds a check may take. Default 10.
    public var timeout: Int = 10
    /// `start_cmd`: command that starts the service on the active director.
    public var startCommand: String?
    /// `stop_cmd`: command that stops it.
    public var stopCommand: String?
    /// `master`: the director that normally runs it.
    public var master: IPAddress?
    /// `dirs = [ a b ]`: directories kept in sync; kept, unused by h2e.
    public var directories: [String]?

    public init(name: String, address: InterfaceAddress) {
        self.name = name
        self.address = address
    }
}
