/// The whole of an lvs.cf file: global settings, LVS virtual servers and failover (fos) services.
///
/// Every property holds the value h2e uses, defaults included, so consumers never re-apply defaults. Values are
/// validated by the parser (`LVSConfigParser`); `LVSConfigWriter` writes them back so that
/// `parse(write(c)) == c`.
public struct LVSConfiguration: Hashable, Sendable {
    public var global: GlobalSettings
    public var virtualServers: [VirtualServer]
    public var failoverServices: [FailoverService]

    public init(
        global: GlobalSettings = GlobalSettings(), virtualServers: [VirtualServer] = [],
        failoverServices: [FailoverService] = []
    ) {
        self.global = global
        self.virtualServers = virtualServers
        self.failoverServices = failoverServices
    }

    /// The virtual server called `name`, if any.
    public func virtualServer(named name: String) -> VirtualServer? {
        virtualServers.first { $0.name == name }
    }

    /// Real servers over all virtual servers.
    public var realServerCount: Int { virtualServers.reduce(0) { $0 + $1.realServers.count } }
}
