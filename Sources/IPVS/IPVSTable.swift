/// The whole IPVS table of one network namespace: what h2e wants, or what the kernel has.
public struct IPVSTable: Hashable, Sendable, Codable {
    public var services: [VirtualService]

    public init(services: [VirtualService] = []) { self.services = services }

    public subscript(key: ServiceKey) -> VirtualService? {
        services.first { $0.key == key }
    }
}

/// Connection timeouts of the IPVS connection table, in seconds (0 in a setter leaves a value unchanged).
public struct IPVSTimeouts: Hashable, Sendable, Codable {
    public var tcp: UInt32
    public var tcpFin: UInt32
    public var udp: UInt32

    public init(tcp: UInt32, tcpFin: UInt32, udp: UInt32) {
        self.tcp = tcp
        self.tcpFin = tcpFin
        self.udp = udp
    }
}

/// IPVS version and connection hash table size (`IPVS_CMD_GET_INFO`).
public struct IPVSInfo: Hashable, Sendable, Codable {
    public var version: UInt32
    public var connectionTableSize: UInt32

    /// `1.2.1`, as ipvsadm prints it.
    public var versionString: String { "\(version >> 16 & 0xff).\(version >> 8 & 0xff).\(version & 0xff)" }
}

/// The connection synchronisation daemon: the active director multicasts its connection table, the backup applies it,
/// so established connections survive a failover.
public struct SyncDaemon: Hashable, Sendable, Codable {
    public enum State: UInt32, Sendable, Codable {
        case master = 1
        case backup = 2
    }

    public var state: State
    public var interface: String
    public var syncID: UInt8

    public init(state: State, interface: String, syncID: UInt8 = 0) {
        self.state = state
        self.interface = interface
        self.syncID = syncID
    }
}
