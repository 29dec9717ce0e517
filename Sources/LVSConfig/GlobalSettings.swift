import Addressing

/// The keywords outside any block. Defaults are Piranha's (lvsconfig.c `lvsParseConfig`) unless marked h2e.
public struct GlobalSettings: Hashable, Sendable {
    /// `serial_no`: a number the GUI bumps on every change. Default 0.
    public var serialNumber: Int = 0
    /// `primary`: the primary director's public address.
    public var primary: IPAddress?
    /// `primary_private`: the primary's address on a private heartbeat network.
    public var primaryPrivate: IPAddress?
    /// `primary_shared`: shared-storage (SCSI reservation) device of the primary; kept, unused by h2e.
    public var primaryShared: String?
    /// `backup`: the backup director's public address.
    public var backup: IPAddress?
    /// `backup_active`: 1 when a backup director runs. Default 0.
    public var backupActive: Bool = false
    /// `backup_private`: the backup's address on a private heartbeat network.
    public var backupPrivate: IPAddress?
    /// `backup_shared`: shared-storage device of the backup; kept, unused by h2e.
    public var backupShared: String?
    /// `reservation_conflict_action`: `preempt` or `nothing`; kept, unused by h2e.
    public var reservationConflictAction: ReservationConflictAction?
    /// `nat_router = IP dev[:alias]`: the real servers' gateway address the active director holds (NAT).
    public var natRouter: InterfaceAddress?
    /// `nat_nmask`: netmask of `nat_router`.
    public var natNetmask: Netmask?
    /// `active_cmd`: command run on becoming active.
    public var activeCommand: String?
    /// `inactive_cmd`: command run on becoming inactive.
    public var inactiveCommand: String?
    /// `monitor_links`: 1 blocks takeover while a monitored link is down. Default 0.
    public var monitorLinks: Bool = false
    /// `debug_level`: Piranha's log level word. Default `NONE`.
    public var debugLevel: String = "NONE"
    /// `hard_shutdown`: default 1, as Piranha. h2e reads it as: a stopping director removes the services it programmed
    /// (0 leaves the IPVS table in place across a stop).
    public var hardShutdown: Bool = true
    /// `ipvsadm`: path of ipvsadm. Default `/sbin/ipvsadm`; kept, unused (h2e talks netlink).
    public var ipvsadm: String = "/sbin/ipvsadm"
    /// `keepalive`: seconds between heartbeats, fractions allowed (h2e; Piranha took whole seconds). Default 2.
    public var keepalive: Double = 2
    /// `deadtime`: seconds without heartbeat before the backup takes over, fractions allowed. Default 5.
    public var deadtime: Double = 5
    /// `rsh_command`: remote shell for `load_monitor = uptime|rup|ruptime`. Default `rsh`.
    public var rshCommand: String = "rsh"
    /// `syncdaemon`: 1 runs the IPVS connection sync daemon. Default 0.
    public var syncDaemon: Bool = false
    /// `syncd_iface`: interface of the sync daemon. Default `eth0`.
    public var syncDaemonInterface: String = "eth0"
    /// `syncd_id`: sync daemon id (0-255). Default 0.
    public var syncDaemonID: Int = 0
    /// `tcp_timeout`: IPVS TCP timeout in seconds; 0 keeps the kernel's. Default 0.
    public var tcpTimeout: Int = 0
    /// `tcpfin_timeout`: IPVS TCP FIN timeout in seconds; 0 keeps the kernel's. Default 0.
    public var tcpFinTimeout: Int = 0
    /// `udp_timeout`: IPVS UDP timeout in seconds; 0 keeps the kernel's. Default 0.
    public var udpTimeout: Int = 0
    /// `heartbeat`: 1 runs the heartbeat. Default 0.
    public var heartbeat: Bool = false
    /// `heartbeat_port`: UDP port of the heartbeat. Default 539.
    public var heartbeatPort: UInt16 = 539
    /// `sync`: Piranha's config file sync flag. Default 0; kept, unused by h2e.
    public var fileSync: Bool = false
    /// `network`: forwarding method of every real server. Default `nat` (lvsconfig.c; see docs/lvs.cf.md).
    public var network: ForwardingMethod = .nat
    /// `service`: `lvs` (virtual servers) or `fos` (failover services). Default `lvs`.
    public var service: ServiceType = .lvs

    // h2e's own keywords.

    /// `heartbeat_key` / `heartbeat_auth` (h2e): how heartbeats are authenticated.
    public var heartbeatAuthentication: HeartbeatAuthentication = .unspecified
    /// `agent_port` (h2e): TCP port of the h2e-agent on every real server. Default 8181.
    public var agentPort: UInt16 = 8181
    /// `weight_interval` (h2e): seconds between weight recomputations. Default 5.
    public var weightInterval: Int = 5
    /// `load_hold_timeout` (h2e): seconds a real server's weight is held while its load cannot be read (agent down,
    /// garbage, stale) before it returns to the configured weight. Default 180.
    public var loadHoldTimeout: Int = 180
    /// `load_slow_start` (h2e): seconds over which a real server that passes its checks again climbs back to its
    /// weight. Default 60; 0 turns slow start off.
    public var loadSlowStart: Int = 60
    /// `mark_rules` (h2e): what installs the firewall-mark rules of the virtual servers' site addresses
    /// (`site_address`, `site_addresses`). Default nftables.
    public var markRules: MarkRulesSetting = .nftables
    /// `announce_rate` (h2e): gratuitous ARPs / unsolicited neighbour advertisements sent per second at most on a
    /// takeover, so that a thousand site addresses do not flood the link. Default 1000.
    public var announceRate: Int = 1000
    /// `drain_timeout` (h2e): seconds a real server that a reload removes keeps its open connections at weight 0
    /// before it is deleted anyway; it goes as soon as it has no active connection. 0 deletes it at once. Default 300.
    public var drainTimeout: Int = 300
    /// `scale_out` (h2e): 1 runs this director as one of an active-active group behind routers that spread flows
    /// by ECMP: no heartbeat pair, every director active, each VIP announced through BIRD (BGP) while this director
    /// can serve it, the `mh` scheduler by default and `sloppy_tcp` set, so that every director sends a flow to the
    /// same real server (docs/scale-out.md). Default 0: Piranha's active/backup pair.
    public var scaleOut: Bool = false
    /// `announce_device` (h2e, `scale_out`): the interface h2e creates (a TUN device it owns, gone when the process
    /// is) and puts each announced VIP on, as a /32 or /128; BIRD's `protocol direct` exports its addresses. Default
    /// `h2e0`.
    public var announceDevice: String = "h2e0"
    /// `bird_socket` (h2e, `scale_out`): BIRD's control socket, read for `status` (BGP and BFD state). Default
    /// `/run/bird/bird.ctl`, Debian's.
    public var birdSocket: String = "/run/bird/bird.ctl"
    /// `scale_out_peers` (h2e, `scale_out`): the status listeners (`h2e-director run --metrics ADDRESS:PORT`) of the
    /// group's other directors; `status` asks each for what it announces and its BGP/BFD state. Default none.
    public var scaleOutPeers: [HostPort] = []

    public init() {}
}

/// `mark_rules`: the program that marks the traffic of site addresses with their virtual server's fwmark.
public enum MarkRulesSetting: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// `nft -f`: one table, `inet h2e`, replaced in one transaction (a Debian director).
    case nftables
    /// `iptables-restore` / `ip6tables-restore`: a chain `H2E-MARKS` in the mangle table.
    case iptables
    /// The same with `iptables-legacy-restore` (kernels without nf_tables, such as the test guest).
    case iptablesLegacy = "iptables-legacy"
    /// No rules: the operator marks the traffic by other means.
    case none

    public var description: String { rawValue }
}

/// `reservation_conflict_action`.
public enum ReservationConflictAction: String, Hashable, Sendable, CaseIterable {
    case preempt
    case nothing
}

/// `network`: how IPVS forwards to real servers.
public enum ForwardingMethod: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Masquerading (IPVS MASQ).
    case nat
    /// Direct routing (IPVS DROUTE): the real servers hold the VIP on a non-ARPing interface.
    case direct
    /// IP-in-IP tunnelling (IPVS TUNNEL).
    case tunnel

    public var description: String { rawValue }
}

/// `service`: which kind of block pulse runs.
public enum ServiceType: String, Hashable, Sendable, CaseIterable {
    case lvs
    case fos
}

/// How heartbeats between the directors are authenticated (h2e).
public enum HeartbeatAuthentication: Hashable, Sendable {
    /// Neither `heartbeat_key` nor `heartbeat_auth`: the director decides (see docs/lvs.cf.md).
    case unspecified
    /// `heartbeat_auth = none`: unauthenticated, Piranha's wire behaviour, chosen explicitly.
    case none
    /// `heartbeat_key = /path`: HMAC-SHA256 with the key read from that file.
    case hmacSHA256(keyFile: String)
}
