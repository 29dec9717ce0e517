/// What `h2e-director status` shows, and the JSON of `status --json` (field names are a stable contract: the
/// failover tests and the status page read them). Times are ages in seconds ("how long ago"), so the report needs
/// no clock agreement with its reader.
public struct StatusReport: Codable, Sendable, Hashable {
    public struct Director: Codable, Sendable, Hashable {
        /// `active`, `backup`, or `starting` before the first decision, `stopped` after the heartbeat ended.
        public var role: String
        public var roleReason: String
        public var roleAgeSeconds: Double
        /// True without a backup director (no heartbeat): always active.
        public var standalone: Bool
        /// `primary` or `backup` (lvs.cf), nil when standalone.
        public var configuredRole: String?
        public var peer: Peer?
        /// Heartbeat links (0-based, lvs.cf order: public, private) with no valid heartbeat within deadtime.
        public var silentLinks: [Int]
        public var failovers: Int
        public var heartbeatRejects: Int
        /// Rejected heartbeat datagrams by reason (``HeartbeatRejection/label``: badMAC, replay, wrongVersion, ...).
        public var heartbeatRejectsByReason: [String: Int] = [:]
        /// Heartbeats accepted as proof that the peer is alive (they echoed this run's session nonce).
        public var heartbeatsAccepted: Int = 0
        public var configFile: String
        public var configAgeSeconds: Double
        /// The last SIGHUP's failure (`FILE:LINE:COLUMN: message` lines), nil when the last reload worked.
        public var reloadError: String?
        public var pid: Int32
    }

    public struct Peer: Codable, Sendable, Hashable {
        /// What the peer's last heartbeat announced: `active`, `backup`, `stopping` (also after it fell silent).
        public var state: String
        public var configuredRole: String
        public var fit: Bool
        /// Whether a valid heartbeat arrived within deadtime: false for a dead or unreachable peer.
        public var alive: Bool
        /// Seconds since its last valid heartbeat.
        public var heardAgeSeconds: Double?
    }

    public struct IPVS: Codable, Sendable, Hashable {
        /// `netlink` or `memory`.
        public var backend: String
        public var changesApplied: Int
        public var errors: Int
        public var consecutiveErrors: Int
        public var lastError: String?
    }

    public struct Virtual: Codable, Sendable, Hashable {
        public var name: String
        /// The IPVS service, as `apply` names it: `TCP 10.0.0.10:80`, `FWM 100`.
        public var service: String
        public var address: String
        public var scheduler: String
        public var forwarding: String
        public var loadMonitor: String
        public var sorryServer: String?
        public var sorryServerInUse: Bool
        public var servers: [Server]
    }

    public struct Server: Codable, Sendable, Hashable {
        public var name: String
        public var address: String
        public var port: Int
        /// `up`, `down` or `unknown` (not checked yet).
        public var health: String
        /// Why it is down (the failed check), nil otherwise.
        public var healthDetail: String?
        public var healthAgeSeconds: Double?
        /// The most recent check: `passed`, or `failed: <reason>`; nil before the first one completes.
        public var lastCheck: String? = nil
        public var lastCheckAgeSeconds: Double? = nil
        /// The check: `tcp send "GET / HTTP/1.0\r\n\r\n" expect prefix "HTTP"`.
        public var check: String
        /// Last usable load per CPU, and how old that sample is.
        public var load: Double?
        public var loadAgeSeconds: Double?
        /// Why the last reading gave no load, nil when it did.
        public var loadError: String?
        public var configuredWeight: Int
        /// The weight in the desired table; nil when the server is out of it.
        public var weight: Int?
        public var inTable: Bool
        public var reason: String
        /// `drain`, `down` or `up`, nil without override.
        public var override: String?
        /// When the override was set, seconds since the Unix epoch.
        public var overrideSince: Double?
        /// The agent's pages (graphs), for `load_monitor = h2e`.
        public var agentURL: String?
    }

    public var director: Director
    public var ipvs: IPVS
    public var virtuals: [Virtual]

    /// The server `name` of the virtual server `virtual`, for tests and scripts.
    public func server(_ virtual: String, _ name: String) -> Server? {
        virtuals.first { $0.name == virtual }?.servers.first { $0.name == name }
    }
}
