import Addressing

/// A real server behind a virtual service, as configured, plus what the kernel reports about it.
public struct Destination: Hashable, Sendable, Codable {
    public var address: IPAddress
    public var port: UInt16
    public var forwarding: ForwardingMethod
    /// ``weights``; 0 takes no new connections (quiesced) but keeps the existing ones.
    public var weight: Int
    /// The weights h2e gives IPVS: those of lvs.cf and ipvsadm. The kernel would take any non-negative 32-bit
    /// value; one limit everywhere keeps a weight the status shows equal to the one in the table.
    public static let weights = 0...65535
    /// Upper connection threshold; 0 means none.
    public var upperThreshold: UInt32
    /// Lower connection threshold; 0 means none.
    public var lowerThreshold: UInt32

    /// Read from the kernel only; ignored when comparing configuration.
    public var activeConnections: UInt32 = 0
    public var inactiveConnections: UInt32 = 0
    public var persistentConnections: UInt32 = 0
    public var statistics: IPVSStatistics? = nil

    public init(
        address: IPAddress, port: UInt16, forwarding: ForwardingMethod = .directRoute, weight: Int = 1,
        upperThreshold: UInt32 = 0, lowerThreshold: UInt32 = 0
    ) {
        self.address = address
        self.port = port
        self.forwarding = forwarding
        self.weight = weight
        self.upperThreshold = upperThreshold
        self.lowerThreshold = lowerThreshold
    }

    /// What identifies a destination within its service.
    public struct ID: Hashable, Sendable, CustomStringConvertible {
        public var address: IPAddress
        public var port: UInt16
        public var description: String { address.withPort(port) }
    }

    public var id: ID { ID(address: address, port: port) }

    /// True when the settings h2e controls are equal, whatever the counters say.
    public func hasSameSettings(as other: Destination) -> Bool {
        address == other.address && port == other.port && forwarding == other.forwarding && weight == other.weight
            && upperThreshold == other.upperThreshold && lowerThreshold == other.lowerThreshold
    }
}
