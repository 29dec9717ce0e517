import Addressing

/// A virtual service and its destinations: one entry of the kernel IPVS table.
public struct VirtualService: Hashable, Sendable, Codable {
    /// Client affinity: connections from one client (netmask) go to one real server for `timeout` seconds.
    public struct Persistence: Hashable, Sendable, Codable {
        public var timeout: UInt32
        /// IPv4: the client netmask as a host-order integer (255.255.255.255 = one client); IPv6: a prefix length.
        public var netmask: UInt32

        public init(timeout: UInt32 = 300, netmask: UInt32) {
            self.timeout = timeout
            self.netmask = netmask
        }

        /// One client per entry for the family: 255.255.255.255 or /128.
        public static func perClient(timeout: UInt32 = 300, family: IPAddress.Family) -> Persistence {
            Persistence(timeout: timeout, netmask: family == .ipv4 ? 0xffff_ffff : 128)
        }
    }

    /// The scheduler flags (`IP_VS_SVC_F_SCHED1...3`); sh and mh read them as fallback and port.
    public struct SchedulerFlags: OptionSet, Hashable, Sendable, Codable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let flag1 = SchedulerFlags(rawValue: 0x0008)
        public static let flag2 = SchedulerFlags(rawValue: 0x0010)
        public static let flag3 = SchedulerFlags(rawValue: 0x0020)
        /// sh/mh: if the chosen server is unavailable, pick another.
        public static let fallback = flag1
        /// sh/mh: hash the source port as well.
        public static let port = flag2
    }

    public var key: ServiceKey
    public var scheduler: Scheduler
    public var persistence: Persistence?
    /// One-packet scheduling (UDP): every datagram is scheduled on its own.
    public var onePacket: Bool
    public var schedulerFlags: SchedulerFlags
    /// Ordered as configured; the kernel's own order is whatever it dumps.
    public var destinations: [Destination]

    /// Read from the kernel only; ignored when comparing configuration.
    public var statistics: IPVSStatistics? = nil

    public init(
        key: ServiceKey, scheduler: Scheduler = .localityBasedLeastConnection, persistence: Persistence? = nil,
        onePacket: Bool = false, schedulerFlags: SchedulerFlags = [], destinations: [Destination] = []
    ) {
        self.key = key
        self.scheduler = scheduler
        self.persistence = persistence
        self.onePacket = onePacket
        self.schedulerFlags = schedulerFlags
        self.destinations = destinations
    }

    /// True when the service's own settings (not its destinations, not counters) are equal.
    public func hasSameSettings(as other: VirtualService) -> Bool {
        key == other.key && scheduler == other.scheduler && persistence == other.persistence
            && onePacket == other.onePacket && schedulerFlags == other.schedulerFlags
    }

    /// Kernel `IP_VS_SVC_F_*` bits for these settings.
    var kernelFlags: UInt32 {
        var flags = schedulerFlags.rawValue
        if persistence != nil { flags |= 0x0001 }
        if onePacket { flags |= 0x0004 }
        return flags
    }
}
