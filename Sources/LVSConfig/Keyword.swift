/// The blocks of lvs.cf.
enum BlockKind: Hashable, Sendable, CaseIterable {
    case global
    case virtual
    case failover
    case server

    /// How a message names this kind of block.
    var noun: String {
        switch self {
        case .global: "the global section"
        case .virtual: "a virtual block"
        case .failover: "a failover block"
        case .server: "a server block"
        }
    }
}

/// Where a keyword may appear: the one table behind "unknown keyword", "did you mean", "wrong block" and the
/// keyword reference test (every name here is documented in docs/lvs.cf.md).
struct Keyword: Sendable {
    let name: String
    /// Blocks where the keyword means something.
    let blocks: Set<BlockKind>
    /// Blocks where Piranha's parser took it although it means nothing there: h2e warns and ignores it.
    let ignoredIn: Set<BlockKind>
    /// True for h2e's own keywords.
    let isH2E: Bool

    init(_ name: String, _ blocks: Set<BlockKind>, ignoredIn: Set<BlockKind> = [], h2e: Bool = false) {
        self.name = name
        self.blocks = blocks
        self.ignoredIn = ignoredIn
        self.isH2E = h2e
    }

    static let all: [Keyword] = [
        // Global (lvsconfig.c parseConfiguration).
        Keyword("serial_no", [.global]),
        Keyword("primary", [.global]),
        Keyword("primary_private", [.global]),
        Keyword("primary_shared", [.global]),
        Keyword("backup", [.global]),
        Keyword("backup_active", [.global]),
        Keyword("backup_private", [.global]),
        Keyword("backup_shared", [.global]),
        Keyword("reservation_conflict_action", [.global]),
        Keyword("nat_router", [.global]),
        Keyword("nat_nmask", [.global]),
        Keyword("active_cmd", [.global]),
        Keyword("inactive_cmd", [.global]),
        Keyword("monitor_links", [.global]),
        Keyword("debug_level", [.global]),
        Keyword("hard_shutdown", [.global]),
        Keyword("ipvsadm", [.global]),
        Keyword("keepalive", [.global]),
        Keyword("deadtime", [.global]),
        Keyword("rsh_command", [.global]),
        Keyword("syncdaemon", [.global]),
        Keyword("syncd_iface", [.global]),
        Keyword("syncd_id", [.global]),
        Keyword("tcp_timeout", [.global]),
        Keyword("tcpfin_timeout", [.global]),
        Keyword("udp_timeout", [.global]),
        Keyword("heartbeat", [.global]),
        Keyword("heartbeat_port", [.global]),
        Keyword("sync", [.global]),
        Keyword("network", [.global]),
        Keyword("service", [.global]),
        Keyword("virtual", [.global]),
        Keyword("failover", [.global]),
        // h2e, global.
        Keyword("heartbeat_key", [.global], h2e: true),
        Keyword("heartbeat_auth", [.global], h2e: true),
        Keyword("agent_port", [.global], h2e: true),
        Keyword("weight_interval", [.global], h2e: true),
        Keyword("load_hold_timeout", [.global], h2e: true),
        Keyword("load_slow_start", [.global], h2e: true),
        Keyword("mark_rules", [.global], h2e: true),
        Keyword("announce_rate", [.global], h2e: true),
        Keyword("drain_timeout", [.global], h2e: true),
        Keyword("scale_out", [.global], h2e: true),
        Keyword("announce_device", [.global], h2e: true),
        Keyword("bird_socket", [.global], h2e: true),
        Keyword("scale_out_peers", [.global], h2e: true),
        // Virtual and failover (one parser in Piranha: parseVirtualServer).
        Keyword("active", [.virtual, .failover, .server]),
        Keyword("address", [.virtual, .failover, .server]),
        Keyword("vip_nmask", [.virtual, .failover]),
        Keyword("port", [.virtual, .failover, .server]),
        Keyword("protocol", [.virtual, .failover]),
        Keyword("client_monitor", [.virtual, .failover]),
        Keyword("send_program", [.virtual, .failover]),
        Keyword("send", [.virtual, .failover]),
        Keyword("expect", [.virtual, .failover]),
        Keyword("use_regex", [.virtual, .failover]),
        Keyword("timeout", [.virtual, .failover]),
        Keyword("sorry_server", [.virtual], ignoredIn: [.failover]),
        Keyword("fwmark", [.virtual], ignoredIn: [.failover]),
        Keyword("scheduler", [.virtual], ignoredIn: [.failover]),
        Keyword("persistent", [.virtual], ignoredIn: [.failover]),
        Keyword("pmask", [.virtual], ignoredIn: [.failover]),
        Keyword("reentry", [.virtual], ignoredIn: [.failover]),
        Keyword("load_monitor", [.virtual], ignoredIn: [.failover]),
        Keyword("quiesce_server", [.virtual], ignoredIn: [.failover]),
        Keyword("server", [.virtual], ignoredIn: [.failover]),
        Keyword("start_cmd", [.failover], ignoredIn: [.virtual]),
        Keyword("stop_cmd", [.failover], ignoredIn: [.virtual]),
        Keyword("master", [.failover], ignoredIn: [.virtual]),
        Keyword("dirs", [.failover], ignoredIn: [.virtual]),
        // h2e, virtual.
        Keyword("check_interval", [.virtual], h2e: true),
        Keyword("scheduler_flags", [.virtual], h2e: true),
        Keyword("fall", [.virtual], h2e: true),
        Keyword("panic_threshold", [.virtual], h2e: true),
        Keyword("site_address", [.virtual], h2e: true),
        Keyword("site_addresses", [.virtual], h2e: true),
        Keyword("site_device", [.virtual], h2e: true),
        // Server (parseActualServer) and h2e's max_weight and server_id.
        Keyword("weight", [.server]),
        Keyword("max_weight", [.server], h2e: true),
        Keyword("server_id", [.server], h2e: true),
    ]

    static let byName: [String: Keyword] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// Keywords that open a block: `virtual NAME {`, `failover NAME {`, `server NAME {`.
    static let blockOpeners: [String: BlockKind] = ["virtual": .virtual, "failover": .failover, "server": .server]

    /// The known keyword of `block` nearest to `word` by edit distance, if near enough to be a likely typo.
    static func suggestion(for word: String, in block: BlockKind) -> String? {
        let lowered = Array(word.lowercased().utf8)
        guard lowered.count <= 64 else { return nil }
        var best: (name: String, distance: Int)?
        for keyword in all where keyword.blocks.contains(block) || keyword.ignoredIn.contains(block) {
            let distance = editDistance(lowered, Array(keyword.name.utf8))
            if distance < (best?.distance ?? Int.max) { best = (keyword.name, distance) }
        }
        guard let best, best.distance <= max(2, lowered.count / 3) else { return nil }
        return best.name
    }

    /// Levenshtein distance.
    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
