import ScaleOut

/// What `h2e-director status` shows, and the JSON of `status --json` (field names are a stable contract: the
/// failover tests and the status page read them). Times are ages in seconds ("how long ago"), so the report needs
/// no clock agreement with its reader. Every field is in the JSON, an absent value as an explicit `null`
/// (``ExplicitNullEncoding``), so a reader can tell "no value" from "no such field".
public struct StatusReport: Codable, Sendable, Hashable, ExplicitNullEncoding {
    public struct Director: Codable, Sendable, Hashable, ExplicitNullEncoding {
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
        /// What was wrong with overrides.json at start and what the director did (started from the last good copy,
        /// or with none); nil when it was fine.
        public var overridesProblem: String? = nil
        /// Saved overrides that name no real server of the running configuration (`VIRTUAL ADDRESS`): kept, but
        /// they act on nothing.
        public var unmatchedOverrides: [String] = []
    }

    public struct Peer: Codable, Sendable, Hashable, ExplicitNullEncoding {
        /// What the peer's last heartbeat announced: `active`, `backup`, `stopping` (also after it fell silent).
        public var state: String
        public var configuredRole: String
        public var fit: Bool
        /// Whether a valid heartbeat arrived within deadtime: false for a dead or unreachable peer.
        public var alive: Bool
        /// Seconds since its last valid heartbeat.
        public var heardAgeSeconds: Double?
    }

    public struct IPVS: Codable, Sendable, Hashable, ExplicitNullEncoding {
        /// `netlink` or `memory`.
        public var backend: String
        public var changesApplied: Int
        public var errors: Int
        public var consecutiveErrors: Int
        public var lastError: String?
    }

    public struct Virtual: Codable, Sendable, Hashable, ExplicitNullEncoding {
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
        /// The panic it is in (``PanicState``), nil when none.
        public var panic: Panic? = nil
        /// Panics since the director started; nil from a director without panic.
        public var panics: Int? = nil
    }

    /// A virtual server in panic: fewer than `threshold` percent of its real servers pass their checks.
    public struct Panic: Codable, Sendable, Hashable, ExplicitNullEncoding {
        public var failing: Int
        public var total: Int
        public var threshold: Int
        public var ageSeconds: Double
    }

    public struct Server: Codable, Sendable, Hashable, ExplicitNullEncoding {
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
        /// What the last usable load was: `loadavg` or `live 10 s` (``LoadFeedback/LoadSignal``); nil without one.
        public var loadSignal: String? = nil
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

    /// `scale_out = 1`: this director as one of an active-active group.
    public struct Group: Codable, Sendable, Hashable, ExplicitNullEncoding {
        /// The announce device (lvs.cf `announce_device`).
        public var device: String
        /// The operator drained this director (`director drain`): it announces nothing.
        public var drained: Bool
        /// The addresses on the announce device, which BIRD exports.
        public var announced: [String]
        /// The configured addresses not announced, each with why.
        public var notAnnounced: [NotAnnounced]
        /// Addresses announced and withdrawn since the director started.
        public var announcements: Int
        public var withdrawals: Int
        /// BIRD's control socket (lvs.cf `bird_socket`).
        public var birdSocket: String
        /// What BIRD says of its sessions; nil when it could not be asked (``birdError``).
        public var bird: BirdStatus?
        public var birdError: String?
        /// The other directors of the group (lvs.cf `scale_out_peers`), as each reports itself; only in the answer
        /// to `h2e-director status` (a director's own `/status.json` does not ask its peers).
        public var peers: [PeerDirector] = []
    }

    /// Another director of a scale-out group, from its `/status.json`.
    public struct PeerDirector: Codable, Sendable, Hashable, ExplicitNullEncoding {
        /// Its status listener, as lvs.cf names it.
        public var address: String
        /// Why it could not be asked (unreachable, no answer within 1 s, not a scale-out director); nil when it answered.
        public var error: String?
        public var announced: [String]?
        public var drained: Bool?
        /// Its BGP sessions, `NAME STATE INFO` as its BIRD reports them, and its BFD sessions, `ADDRESS STATE`.
        public var bgp: [String]?
        public var bfd: [String]?
    }

    public struct NotAnnounced: Codable, Sendable, Hashable, ExplicitNullEncoding {
        public var address: String
        public var reason: String
    }

    public var director: Director
    public var ipvs: IPVS
    public var virtuals: [Virtual]
    /// `service = fos`: the failover services (nil in LVS mode).
    public var failover: Failover? = nil
    /// `scale_out = 1`: the group (nil otherwise).
    public var group: Group? = nil

    /// The server `name` of the virtual server `virtual`, for tests and scripts.
    public func server(_ virtual: String, _ name: String) -> Server? {
        virtuals.first { $0.name == virtual }?.servers.first { $0.name == name }
    }
}

/// Encodes every stored property under its own name, nil as `null` (the synthesized encoding leaves nil out).
/// Decoding stays synthesized: it reads `null` and a missing key alike.
public protocol ExplicitNullEncoding: Encodable {}

extension ExplicitNullEncoding {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: PropertyKey.self)
        for child in Mirror(reflecting: self).children {
            guard let label = child.label, let value = child.value as? any Encodable else { continue }
            // An Optional encodes `nil` as null through its own encode(to:).
            try container.encode(value, forKey: PropertyKey(stringValue: label))
        }
    }
}

/// A coding key that is a property's name.
struct PropertyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
