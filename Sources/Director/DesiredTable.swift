import IPVS

/// The desired IPVS table with the reason for every real server's place in it.
public struct DesiredTable: Hashable, Sendable {
    public var table: IPVSTable
    /// Every active real server of every active virtual server.
    public var servers: [RealServerID: ServerPlan]
    /// Names of the virtual servers whose `sorry_server` is in the table (no real server serving).
    public var sorryServersInUse: Set<String>
    /// Names of the virtual servers with a real server in the table at a weight above 0 (a sorry server does not
    /// count): what a scale-out director may announce.
    public var servingVirtuals: Set<String> = []

    public init(table: IPVSTable = IPVSTable(), servers: [RealServerID: ServerPlan] = [:], sorryServersInUse: Set<String> = []) {
        self.table = table
        self.servers = servers
        self.sorryServersInUse = sorryServersInUse
    }
}
