import Addressing
/// The settings of ``PeerStateMachine`` (lvs.cf `primary`/`backup`, `keepalive`, `deadtime`, `monitor_links`).
public struct PeerConfiguration: Sendable, Hashable {
    public var role: ConfiguredRole
    /// This director's id in its heartbeats; must differ from the peer's.
    public var senderID: UInt64
    /// lvs.cf `keepalive`: interval between heartbeats.
    public var keepalive: Duration
    /// lvs.cf `deadtime`: silence on every link after which the peer is dead.
    public var deadtime: Duration
    /// Number of heartbeat links (primary/backup addresses, plus the private pair when configured).
    public var linkCount: Int
    /// lvs.cf `monitor_links`.
    public var monitorLinks: Bool

    public init(
        role: ConfiguredRole, senderID: UInt64, keepalive: Duration = .seconds(2), deadtime: Duration = .seconds(5),
        linkCount: Int = 1, monitorLinks: Bool = false
    ) throws(HeartbeatConfigurationError) {
        guard keepalive > .zero else { throw .keepaliveNotPositive }
        guard deadtime > keepalive else { throw .deadtimeNotAboveKeepalive(keepalive: keepalive, deadtime: deadtime) }
        guard (1...255).contains(linkCount) else { throw .linkCount(linkCount) }
        self.role = role
        self.senderID = senderID
        self.keepalive = keepalive
        self.deadtime = deadtime
        self.linkCount = linkCount
        self.monitorLinks = monitorLinks
    }

    /// A sender id derived from this director's own (first) heartbeat address: stable across restarts and
    /// different from the peer's. IPv4 addresses map to their 32-bit value; IPv6 folds both halves.
    public static func senderID(forAddress address: String) -> UInt64? {
        switch IPAddress(address) {
        case .v4(let a)?: return UInt64(a.rawValue)
        case .v6(let a)?: return a.high ^ a.low
        case nil: return nil
        }
    }
}
