import IPVS

/// One IPVS service of the desired table, with the plan of every real server of the virtual servers that make it:
/// what ``DesiredTableMapper/mapService(_:_:from:)`` gives. ``DesiredTableCache`` puts its service in place when an
/// input touches that service alone.
public struct DesiredService: Hashable, Sendable {
    public var service: VirtualService
    /// The plan of each active real server of its virtual servers, and of those retiring from it.
    public var servers: [RealServerID: ServerPlan] = [:]
    /// Its virtual servers whose `sorry_server` is in the service.
    public var sorryServersInUse: Set<String> = []
    /// Its virtual servers, when a real server serves (in at a weight above 0); else none.
    public var servingVirtuals: Set<String> = []

    public init(service: VirtualService) {
        self.service = service
    }
}
