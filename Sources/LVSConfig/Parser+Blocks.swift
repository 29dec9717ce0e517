import AgentWire
import Addressing

/// The blocks: global section, virtual, failover, server.
extension Parser {
    /// Where each keyword of a block was last set, for "set again" warnings and for later checks.
    struct Seen {
        private(set) var positions: [String: SourcePosition] = [:]

        subscript(_ name: String) -> SourcePosition? { positions[name] }

        /// Keywords whose lines add up instead of replacing each other.
        static let repeatable: Set<String> = ["site_address"]

        /// Records `statement`, warning when its keyword was set before in the same block.
        mutating func record(_ statement: Statement, sink: inout DiagnosticSink) {
            if let earlier = positions[statement.name], !Self.repeatable.contains(statement.name) {
                sink.warning(
                    statement.keyword.position,
                    "'\(statement.name)' is set again (first at line \(earlier.line)); the last value wins, "
                        + "as in Piranha")
            }
            positions[statement.name] = statement.keyword.position
        }
    }

    /// A parsed block with the positions later checks point at.
    struct Located<Value> {
        var value: Value
        var keyword: Token
        var name: Token
        var seen: Seen
    }

    static let placeholderAddress = InterfaceAddress(address: .v4(IPv4Address(rawValue: 0)), device: "")

    /// Runs the items of a block up to its `}` (the end of the file for the global section, `brace == nil`):
    /// each statement is admitted (known keyword, right block, has `=`), recorded in `seen` and handed to `apply`
    /// with it; each nested block goes to `open`. Reports a `}` closing nothing and a block the file ends inside.
    mutating func parseBody(
        _ kind: BlockKind, context: String, brace: Token?, seen: inout Seen,
        open: (inout Parser, _ keyword: Token, _ arguments: [Token], _ brace: Token) -> Void,
        apply: (inout Parser, Statement, _ seen: Seen) -> Void
    ) {
        while true {
            switch nextItem() {
            case .end:
                if let brace { sink.error(brace.position, "\(context) is never closed; add the missing '}'") }
                return
            case .close(let close):
                guard brace == nil else { return }
                sink.error(close.position, "this '}' closes no block; remove it")
            case .open(let keyword, let arguments, let innerBrace):
                open(&self, keyword, arguments, innerBrace)
            case .statement(let statement):
                guard admit(statement.keyword, in: kind, context: context), requireEquals(statement) else { continue }
                seen.record(statement, sink: &sink)
                apply(&self, statement, seen)
            }
        }
    }

    // MARK: File and global section

    mutating func parseFile() -> LVSConfiguration {
        var configuration = LVSConfiguration()
        var seen = Seen()
        var virtuals: [Located<VirtualServer>] = []
        var failovers: [Located<FailoverService>] = []
        parseBody(
            .global, context: "the global section", brace: nil, seen: &seen,
            open: { parser, keyword, arguments, brace in
                switch Keyword.blockOpeners[keyword.text] {
                case .virtual:
                    let name = parser.blockName(keyword, arguments)
                    if let virtual = parser.parseVirtual(keyword: keyword, name: name, brace: brace) {
                        virtuals.append(virtual)
                    }
                case .failover:
                    parser.failoverBlocks += 1
                    let name = parser.blockName(keyword, arguments)
                    if let failover = parser.parseFailover(keyword: keyword, name: name, brace: brace) {
                        failovers.append(failover)
                    }
                default:
                    parser.misplacedBlock(keyword, brace: brace, in: .global, context: "the global section")
                }
            },
            apply: { parser, statement, seen in
                parser.applyGlobal(statement, to: &configuration.global, seen: seen)
            })
        checkGlobal(configuration.global, seen: seen, virtuals: virtuals, failovers: failovers)
        if configuration.global.scaleOut { checkScaleOut(configuration.global, seen: seen, virtuals: &virtuals) }
        configuration.virtualServers = virtuals.map(\.value)
        configuration.failoverServices = failovers.map(\.value)
        return configuration
    }

    /// The NAME of `keyword NAME {`; reports a missing or extra argument.
    mutating func blockName(_ keyword: Token, _ arguments: [Token]) -> Token {
        guard let name = arguments.first, name.isValue, !name.text.isEmpty else {
            sink.error(
                arguments.first?.position ?? endPosition(of: keyword),
                "'\(keyword.text)' needs a name: \(keyword.text) NAME {")
            return Token(kind: .word, text: "", position: keyword.position)
        }
        if let bad = name.text.unicodeScalars.first(where: { $0 == "\r" || $0 == "\n" || $0 == "\t" }) {
            // A name shows in logs, status and metrics labels, one line each: a line break or tab in it would
            // forge or break those lines.
            let what = bad == "\r" ? "a carriage return (\\r)" : bad == "\n" ? "a line feed (\\n)" : "a tab (\\t)"
            sink.error(name.position, "the name of '\(keyword.text)' contains \(what); names are one printable word")
        }
        if arguments.count > 1 {
            sink.error(
                arguments[1].position,
                "unexpected \(arguments[1].quotedForMessage) after '\(keyword.text) \(name.text)'; expected '{'")
        }
        return name
    }

    /// A block opener that does not belong where it is: report it and skip the block.
    mutating func misplacedBlock(_ keyword: Token, brace: Token, in block: BlockKind, context: String) {
        if let kind = Keyword.blockOpeners[keyword.text] {
            if Keyword.byName[keyword.text]?.ignoredIn.contains(block) == true {
                _ = admit(keyword, in: block, context: context)
            } else {
                let parent = kind == .server ? "a virtual block" : "the global section"
                sink.error(keyword.position, "\(keyword.text) blocks belong in \(parent), not in \(context)")
            }
        } else if admit(keyword, in: block, context: context) {
            sink.error(
                keyword.position, "'\(keyword.text)' is not a block; write \(keyword.text) = VALUE on one line")
        }
        skipBlock(openedBy: brace)
    }

    mutating func applyGlobal(_ st: Statement, to g: inout GlobalSettings, seen: Seen) {
        let int32 = 0...Int(Int32.max)
        switch st.name {
        case "serial_no": integer(st, in: Int(Int32.min)...Int(Int32.max)).map { g.serialNumber = $0 }
        case "primary": address(st).map { g.primary = $0 }
        case "primary_private": address(st).map { g.primaryPrivate = $0 }
        case "primary_shared": string(st).map { g.primaryShared = $0 }
        case "backup": address(st).map { g.backup = $0 }
        case "backup_active": boolean(st).map { g.backupActive = $0 }
        case "backup_private": address(st).map { g.backupPrivate = $0 }
        case "backup_shared": string(st).map { g.backupShared = $0 }
        case "reservation_conflict_action":
            choice(st, of: ReservationConflictAction.self).map { g.reservationConflictAction = $0 }
        case "nat_router": interfaceAddress(st).map { g.natRouter = $0 }
        case "nat_nmask": netmask(st).map { g.natNetmask = $0 }
        case "active_cmd": string(st).map { g.activeCommand = $0 }
        case "inactive_cmd": string(st).map { g.inactiveCommand = $0 }
        case "monitor_links": boolean(st, anyNumber: true).map { g.monitorLinks = $0 }
        case "debug_level": string(st).map { g.debugLevel = $0 }
        case "hard_shutdown": boolean(st).map { g.hardShutdown = $0 }
        case "ipvsadm": string(st).map { g.ipvsadm = $0 }
        case "keepalive": seconds(st, in: 0.01...86_400).map { g.keepalive = $0 }
        case "deadtime": seconds(st, in: 0.01...86_400).map { g.deadtime = $0 }
        case "rsh_command": string(st).map { g.rshCommand = $0 }
        case "syncdaemon": boolean(st).map { g.syncDaemon = $0 }
        case "syncd_iface":
            if let token = single(st), let (device, _) = deviceLabel(token, of: st.name, allowAlias: false) {
                g.syncDaemonInterface = device
            }
        case "syncd_id": integer(st, in: 0...255).map { g.syncDaemonID = $0 }
        case "tcp_timeout": integer(st, in: int32, unit: " seconds").map { g.tcpTimeout = $0 }
        case "tcpfin_timeout": integer(st, in: int32, unit: " seconds").map { g.tcpFinTimeout = $0 }
        case "udp_timeout": integer(st, in: int32, unit: " seconds").map { g.udpTimeout = $0 }
        case "heartbeat": boolean(st).map { g.heartbeat = $0 }
        case "heartbeat_port": port(st, allowZero: false).map { g.heartbeatPort = $0 }
        case "sync": boolean(st).map { g.fileSync = $0 }
        case "network": choice(st, of: ForwardingMethod.self).map { g.network = $0 }
        case "service": choice(st, of: ServiceType.self).map { g.service = $0 }
        case "heartbeat_key":
            guard let path = path(st) else { return }
            if case .none = g.heartbeatAuthentication, let auth = seen["heartbeat_auth"] {
                sink.error(
                    st.keyword.position,
                    "heartbeat_key contradicts 'heartbeat_auth = none' at line \(auth.line); keep one of them")
            }
            g.heartbeatAuthentication = .hmacSHA256(keyFile: path)
        case "heartbeat_auth":
            guard let token = single(st) else { return }
            switch token.text {
            case "none":
                hmacRequested = nil
                if case .hmacSHA256 = g.heartbeatAuthentication, let key = seen["heartbeat_key"] {
                    sink.error(
                        token.position,
                        "'heartbeat_auth = none' contradicts heartbeat_key at line \(key.line); keep one of them")
                }
                g.heartbeatAuthentication = .none
            case "hmac-sha256":
                hmacRequested = token.position
                // The key file decides; checked at the end of the file.
                if case .none = g.heartbeatAuthentication { g.heartbeatAuthentication = .unspecified }
            default:
                sink.error(token.position, "'heartbeat_auth' must be none or hmac-sha256, not '\(token.text)'")
            }
        case "agent_port": port(st, allowZero: false).map { g.agentPort = $0 }
        case "weight_interval": integer(st, in: 1...3600, unit: " seconds").map { g.weightInterval = $0 }
        case "load_hold_timeout": integer(st, in: 1...86_400, unit: " seconds").map { g.loadHoldTimeout = $0 }
        case "load_slow_start": integer(st, in: 0...3600, unit: " seconds").map { g.loadSlowStart = $0 }
        case "mark_rules": choice(st, of: MarkRulesSetting.self).map { g.markRules = $0 }
        case "announce_rate": integer(st, in: 1...1_000_000, unit: " per second").map { g.announceRate = $0 }
        case "drain_timeout": integer(st, in: 0...86_400, unit: " seconds").map { g.drainTimeout = $0 }
        case "scale_out": boolean(st).map { g.scaleOut = $0 }
        case "announce_device":
            if let token = single(st), let (device, _) = deviceLabel(token, of: st.name, allowAlias: false) {
                g.announceDevice = device
            }
        case "bird_socket": path(st).map { g.birdSocket = $0 }
        case "scale_out_peers": hostPorts(st).map { g.scaleOutPeers = $0 }
        case "virtual", "failover":
            sink.error(st.keyword.position, "'\(st.name)' opens a block: \(st.name) NAME {")
        default: preconditionFailure("global keyword '\(st.name)' in Keyword.all but not parsed")
        }
    }

    mutating func checkGlobal(
        _ g: GlobalSettings, seen: Seen, virtuals: [Located<VirtualServer>], failovers: [Located<FailoverService>]
    ) {
        if let auth = hmacRequested, case .unspecified = g.heartbeatAuthentication {
            sink.error(auth, "'heartbeat_auth = hmac-sha256' needs 'heartbeat_key = /path/of/key'")
        }
        if let at = seen["nat_nmask"], let mask = g.natNetmask,
            mask.prefixLength > (g.natRouter?.address.family ?? .ipv4).bitCount
        {
            sink.error(at, "nat_nmask /\(mask.prefixLength) is longer than an address of nat_router")
        }
        if let at = seen["deadtime"] ?? seen["keepalive"], g.deadtime <= g.keepalive {
            sink.warning(
                at,
                "deadtime (\(formatSeconds(g.deadtime)) s) is not longer than keepalive (\(formatSeconds(g.keepalive)) s): the backup will take "
                    + "over after a single lost heartbeat")
        }
        if let at = seen["service"], g.service == .fos, failoverBlocks == 0 {
            sink.warning(at, "service = fos but there is no failover block: nothing will run")
        }
        if g.service == .lvs, let first = failovers.first {
            sink.warning(first.keyword.position, "failover blocks are ignored while service = lvs (the default)")
        }
        if g.service == .fos, let first = virtuals.first {
            sink.warning(first.keyword.position, "virtual blocks are ignored while service = fos")
        }
        reportDuplicates(virtuals.map { ($0.value.name, $0.name.position) }, kind: "virtual")
        reportDuplicates(failovers.map { ($0.value.name, $0.name.position) }, kind: "failover")
        checkSharedServices(virtuals)
    }

    /// `scale_out = 1`: what cannot work with several active directors is an error; a scheduler that lets the
    /// directors disagree per flow is a warning. A virtual server that names no scheduler gets mh with mh-fallback
    /// and mh-port (every director maps a flow, source port included, to the same real server, skipping one of
    /// weight 0).
    mutating func checkScaleOut(_ g: GlobalSettings, seen: Seen, virtuals: inout [Located<VirtualServer>]) {
        guard let at = seen["scale_out"] else { return }
        if g.service == .fos {
            sink.error(at, "scale_out = 1 shares virtual servers' traffic; service = fos runs no IPVS: drop one of them")
        }
        if g.network == .nat {
            sink.error(
                at,
                "scale_out = 1 needs network = direct or tunnel: with nat the replies must return through the "
                    + "director that forwarded the request, and ECMP sends them to any director")
        }
        if g.heartbeat, g.backupActive {
            sink.error(
                at,
                "scale_out = 1 makes every director active and announces the VIPs by BGP; heartbeat = 1 with "
                    + "backup_active = 1 is the active/backup pair: keep one of the two")
        }
        for index in virtuals.indices {
            let seenHere = virtuals[index].seen
            if seenHere["scheduler"] == nil {
                virtuals[index].value.scheduler = .mh
                if seenHere["scheduler_flags"] == nil { virtuals[index].value.schedulerFlags = [.flag1, .flag2] }
            } else if let position = seenHere["scheduler"], virtuals[index].value.active,
                ![.mh, .sh].contains(virtuals[index].value.scheduler)
            {
                sink.warning(
                    position,
                    "with scale_out = 1 each director schedules on its own: \(virtuals[index].value.scheduler) sends a "
                        + "flow that moves to another director (one lost, drained or added) to another real server, "
                        + "and it breaks; mh (the default here) or sh make every director agree")
            }
        }
    }

    /// Two active virtual servers on one address/protocol/port service would fight over it: an error. Several on
    /// one firewall mark are Red Hat's multi-port recipe (http 80 + https 443 under one mark, so a client's
    /// connections stay on one real server): they are one IPVS service, so what IPVS keeps per service must agree.
    mutating func checkSharedServices(_ virtuals: [Located<VirtualServer>]) {
        var services: [String: Located<VirtualServer>] = [:]
        for virtual in virtuals where virtual.value.active {
            let v = virtual.value
            let key =
                v.firewallMark.map { "fwmark \($0) \(v.family)" }
                ?? "\(v.protocol) \(v.address.map { "\($0.address)" } ?? "") port \(v.port)"
            guard let earlier = services[key] else {
                services[key] = virtual
                continue
            }
            let e = earlier.value
            let line = earlier.name.position.line
            guard v.firewallMark != nil else {
                sink.error(
                    virtual.name.position,
                    "virtual '\(v.name)' is the same IPVS service (\(key)) as virtual '\(e.name)' at line "
                        + "\(line); give one a different address, port or fwmark, or set active = 0")
                continue
            }
            func disagree(_ keyword: String, _ mine: String, _ theirs: String) {
                sink.error(
                    virtual.seen[keyword] ?? virtual.name.position,
                    "virtual '\(v.name)' shares \(key) with virtual '\(e.name)' at line \(line), so they are one "
                        + "IPVS service, but its \(keyword) is \(mine) and '\(e.name)' has \(theirs); make them agree")
            }
            if v.scheduler != e.scheduler { disagree("scheduler", v.scheduler.rawValue, e.scheduler.rawValue) }
            if v.persistence != e.persistence {
                disagree("persistent", v.persistence.map(String.init) ?? "none", e.persistence.map(String.init) ?? "none")
            }
            if v.persistenceNetmask != e.persistenceNetmask {
                disagree(
                    "pmask", v.persistenceNetmask.map { "/\($0.prefixLength)" } ?? "none",
                    e.persistenceNetmask.map { "/\($0.prefixLength)" } ?? "none")
            }
            if v.protocol != e.protocol { disagree("protocol", v.protocol.rawValue, e.protocol.rawValue) }
        }
    }

    mutating func reportDuplicates(_ names: [(String, SourcePosition)], kind: String) {
        var first: [String: SourcePosition] = [:]
        for (name, position) in names where !name.isEmpty {
            if let earlier = first[name] {
                sink.error(
                    position, "duplicate \(kind) name '\(name)' (first at line \(earlier.line)); names must be unique")
            } else {
                first[name] = position
            }
        }
    }

    // MARK: Virtual and failover blocks

    /// Applies a keyword shared by virtual and failover blocks; false when `st` is not one of them.
    mutating func applyShared<S: CheckedService>(_ st: Statement, to s: inout S) -> Bool {
        switch st.name {
        case "active": boolean(st).map { s.active = $0 }
        case "address": interfaceAddress(st).map { s.vip = $0 }
        case "vip_nmask": netmask(st).map { s.vipNetmask = $0 }
        case "port": port(st).map { s.port = $0 }
        case "protocol": choice(st, of: TransportProtocol.self).map { s.protocol = $0 }
        case "client_monitor": string(st).map { s.clientMonitor = $0 }
        case "send_program": string(st).map { s.sendProgram = $0 }
        case "send": checkString(st).map { s.send = $0 }
        case "expect": checkString(st).map { s.expect = $0 }
        case "use_regex": boolean(st).map { s.useRegex = $0 }
        case "timeout": integer(st, in: 1...Int(Int32.max), unit: " seconds").map { s.timeout = $0 }
        default: return false
        }
        return true
    }

    /// Checks shared by virtual and failover blocks, at the block's end.
    /// - Parameter addressOptional: a fwmark virtual server may go without an address (Piranha took 0.0.0.0).
    mutating func checkShared<S: CheckedService>(
        _ s: S, kind: String, keyword: Token, seen: Seen, addressOptional: Bool = false
    ) -> Bool {
        if seen["address"] == nil, !addressOptional {
            sink.error(
                keyword.position,
                "\(kind) '\(s.name)' has no address; add address = IP DEVICE (e.g. address = 10.0.0.10 eth0:1)")
            return false
        }
        if seen["active"] == nil {
            sink.warning(
                keyword.position,
                "\(kind) '\(s.name)' has no 'active' line, so it is inactive (active = 0), as in Piranha; "
                    + "add active = 1 to run it")
        }
        if let at = seen["vip_nmask"], let mask = s.vipNetmask {
            if let vip = s.vip {
                if mask.prefixLength > vip.address.family.bitCount {
                    sink.error(at, "vip_nmask /\(mask.prefixLength) is longer than an \(vip.address.family) address")
                }
            } else {
                sink.warning(at, "vip_nmask has no effect without address")
            }
        }
        if let at = seen["send_program"], seen["send"] != nil {
            sink.warning(at, "send_program replaces send: the program's output is matched against expect")
        }
        return true
    }

    mutating func parseVirtual(keyword: Token, name: Token, brace: Token) -> Located<VirtualServer>? {
        var v = VirtualServer(name: name.text, address: nil)
        let context = "virtual '\(name.text)'"
        var seen = Seen()
        var servers: [Located<RealServer>] = []
        parseBody(
            .virtual, context: context, brace: brace, seen: &seen,
            open: { parser, opener, arguments, serverBrace in
                guard opener.text == "server" else {
                    return parser.misplacedBlock(opener, brace: serverBrace, in: .virtual, context: context)
                }
                let serverName = parser.blockName(opener, arguments)
                if let server = parser.parseServer(keyword: opener, name: serverName, brace: serverBrace) {
                    servers.append(server)
                }
            },
            apply: { parser, st, _ in
                if parser.applyShared(st, to: &v) { return }
                switch st.name {
                case "sorry_server": parser.address(st).map { v.sorryServer = $0 }
                case "fwmark": parser.integer(st, in: 1...Int(UInt32.max)).map { v.firewallMark = UInt32($0) }
                case "scheduler": parser.choice(st, of: Scheduler.self).map { v.scheduler = $0 }
                case "scheduler_flags": parser.schedulerFlags(st).map { v.schedulerFlags = $0 }
                case "persistent":
                    parser.integer(st, in: 0...Int(Int32.max), unit: " seconds").map {
                        v.persistence = $0 == 0 ? nil : $0
                    }
                case "pmask": parser.netmask(st).map { v.persistenceNetmask = $0 }
                case "reentry": parser.integer(st, in: 0...Int(Int32.max), unit: " seconds").map { v.reentry = $0 }
                case "load_monitor": parser.loadMonitor(st).map { v.loadMonitor = $0 }
                case "quiesce_server": parser.boolean(st).map { v.quiesceServer = $0 }
                case "check_interval":
                    parser.integer(st, in: 1...3600, unit: " seconds").map { v.checkInterval = $0 }
                case "fall": parser.integer(st, in: 1...1000).map { v.fall = $0 }
                case "panic_threshold":
                    parser.integer(st, in: 0...100, unit: " percent").map { v.panicThreshold = $0 }
                case "site_address":
                    for token in st.values {
                        guard let site = parser.address(token, of: st.name) else { continue }
                        if v.siteAddresses.contains(site) {
                            parser.sink.warning(token.position, "site address \(site) is listed twice")
                        } else {
                            v.siteAddresses.append(site)
                        }
                    }
                    if st.values.isEmpty { _ = parser.single(st) }
                case "site_addresses": parser.string(st).map { v.siteAddressFile = $0 }
                case "site_device":
                    parser.single(st).flatMap { parser.deviceLabel($0, of: st.name, allowAlias: false) }
                        .map { v.siteDevice = $0.0 }
                case "server": parser.sink.error(st.keyword.position, "'server' opens a block: server NAME {")
                default: preconditionFailure("virtual keyword '\(st.name)' in Keyword.all but not parsed")
                }
            })
        v.realServers = servers.map(\.value)
        guard !name.text.isEmpty,
            checkShared(v, kind: "virtual", keyword: keyword, seen: seen, addressOptional: v.firewallMark != nil)
        else { return nil }
        if v.address == nil, v.active, let mark = v.firewallMark, v.siteAddresses.isEmpty, v.siteAddressFile == nil {
            sink.warning(
                keyword.position,
                "virtual '\(v.name)' has fwmark = \(mark) and no address: h2e brings up no VIP for it; the "
                    + "addresses marked \(mark) must be put on this director and marked by other means, or listed "
                    + "with site_address / site_addresses")
        }
        checkVirtual(v, seen: seen, keyword: keyword, servers: servers)
        checkSites(v, seen: seen)
        // Piranha turns pmask 255.255.255.255 into "none": a single client address is IPVS's default anyway.
        if v.persistenceNetmask?.prefixLength == v.family.bitCount { v.persistenceNetmask = nil }
        return Located(value: v, keyword: keyword, name: name, seen: seen)
    }

    /// Site addresses reach the service only through their marks, and go on an interface.
    mutating func checkSites(_ v: VirtualServer, seen: Seen) {
        guard let at = seen["site_address"] ?? seen["site_addresses"] else {
            if let device = seen["site_device"] { sink.warning(device, "site_device has no effect without site_address or site_addresses") }
            return
        }
        guard let mark = v.firewallMark else {
            sink.error(
                at,
                "site addresses need fwmark = MARK in virtual '\(v.name)': their traffic reaches the service by the "
                    + "mark h2e puts on it")
            return
        }
        if v.effectiveSiteDevice == nil {
            sink.error(at, "virtual '\(v.name)' has site addresses but no interface for them; add site_device = eth0")
        }
        for site in v.siteAddresses where site.family != v.family {
            sink.error(
                seen["site_address"] ?? at,
                "site address \(site) is \(site.family) but virtual '\(v.name)' (fwmark \(mark)) is \(v.family); "
                    + "IPVS keeps one family per service: list it in a virtual with fwmark \(mark) and \(site.family) servers")
        }
    }

    mutating func loadMonitor(_ st: Statement) -> LoadMonitor? {
        guard let token = single(st) else { return nil }
        switch token.text {
        case "none": return LoadMonitor.none
        case let text where text.hasPrefix("/"): return .program(text)
        case let text:
            if let figure = AgentFigure(rawValue: text) { return .h2e(figure) }
            if let remote = RemoteLoadCommand(rawValue: text) {
                sink.warning(
                    token.position,
                    "load_monitor = \(text) runs '\(text)' against each real server through rsh_command, as Piranha "
                        + "did; load_monitor = h2e asks the h2e-agent instead")
                return .remote(remote)
            }
            sink.error(
                token.position,
                "'load_monitor' must be h2e, h2e-in-flight, none, uptime, rup, ruptime or an absolute program path; not '\(text)'")
            return nil
        }
    }

    mutating func checkVirtual(_ v: VirtualServer, seen: Seen, keyword: Token, servers: [Located<RealServer>]) {
        let family = v.family
        if let at = seen["port"], v.port == 0, v.firewallMark == nil, v.persistence == nil {
            sink.error(at, "port 0 (every port) needs persistent = SECONDS, as IPVS requires")
        }
        if let at = seen["pmask"], let mask = v.persistenceNetmask {
            if mask.prefixLength > family.bitCount {
                sink.error(at, "pmask /\(mask.prefixLength) is longer than an \(family) address")
            }
            if v.persistence == nil {
                sink.warning(at, "pmask has no effect without persistent = SECONDS")
            }
        }
        if let at = seen["sorry_server"], let sorry = v.sorryServer, sorry.family != family {
            sink.error(at, "sorry_server \(sorry) is \(sorry.family) but virtual '\(v.name)' is \(family)")
        }
        if v.active, servers.isEmpty {
            sink.warning(keyword.position, "virtual '\(v.name)' has no server block")
        }
        struct Destination: Hashable {
            var address: IPAddress
            var port: UInt16
        }
        var destinations: [Destination: Int] = [:]
        var names: [String: Int] = [:]
        for server in servers {
            let s = server.value
            let at = server.seen["address"] ?? server.keyword.position
            if s.address.family != family {
                sink.error(
                    at,
                    "server '\(s.name)' is \(s.address.family) but virtual '\(v.name)' is \(family); IPVS keeps one "
                        + "family per service")
            }
            let destination = Destination(address: s.address, port: v.port(of: s))
            if let line = destinations[destination] {
                sink.error(
                    at,
                    "server '\(s.name)' repeats the destination \(s.address) port \(destination.port) of the server "
                        + "at line \(line) in "
                        + "virtual '\(v.name)'")
            } else {
                destinations[destination] = server.keyword.position.line
            }
            if !s.name.isEmpty, let line = names[s.name] {
                sink.warning(server.name.position, "server name '\(s.name)' is also used at line \(line)")
            } else {
                names[s.name] = server.keyword.position.line
            }
        }
    }

    mutating func parseFailover(keyword: Token, name: Token, brace: Token) -> Located<FailoverService>? {
        var f = FailoverService(name: name.text, address: Self.placeholderAddress)
        let context = "failover '\(name.text)'"
        var seen = Seen()
        parseBody(
            .failover, context: context, brace: brace, seen: &seen,
            open: { parser, opener, _, innerBrace in
                parser.misplacedBlock(opener, brace: innerBrace, in: .failover, context: context)
            },
            apply: { parser, st, _ in
                if parser.applyShared(st, to: &f) { return }
                switch st.name {
                case "start_cmd": parser.string(st).map { f.startCommand = $0 }
                case "stop_cmd": parser.string(st).map { f.stopCommand = $0 }
                case "master": parser.address(st).map { f.master = $0 }
                case "dirs": parser.list(st).map { f.directories = $0 }
                default: preconditionFailure("failover keyword '\(st.name)' in Keyword.all but not parsed")
                }
            })
        guard !name.text.isEmpty, checkShared(f, kind: "failover", keyword: keyword, seen: seen) else { return nil }
        return Located(value: f, keyword: keyword, name: name, seen: seen)
    }

    // MARK: Server blocks

    mutating func parseServer(keyword: Token, name: Token, brace: Token) -> Located<RealServer>? {
        var s = RealServer(name: name.text, address: .v4(IPv4Address(rawValue: 0)))
        let context = "server '\(name.text)'"
        var seen = Seen()
        parseBody(
            .server, context: context, brace: brace, seen: &seen,
            open: { parser, opener, _, innerBrace in
                parser.misplacedBlock(opener, brace: innerBrace, in: .server, context: context)
            },
            apply: { parser, st, _ in
                switch st.name {
                case "address": parser.address(st).map { s.address = $0 }
                case "active": parser.boolean(st).map { s.active = $0 }
                case "weight": parser.integer(st, in: 0...65535).map { s.weight = $0 }
                case "port": parser.port(st).map { s.port = $0 }
                case "max_weight": parser.integer(st, in: 1...65535).map { s.maxWeight = $0 }
                case "server_id": parser.serverID(st).map { s.serverID = $0 }
                default: preconditionFailure("server keyword '\(st.name)' in Keyword.all but not parsed")
                }
            })
        guard !name.text.isEmpty else { return nil }
        guard seen["address"] != nil else {
            sink.error(keyword.position, "server '\(name.text)' has no address; add address = IP")
            return nil
        }
        if seen["active"] == nil {
            sink.warning(
                keyword.position,
                "server '\(name.text)' has no 'active' line, so it is not used (active = 0), as in Piranha; "
                    + "add active = 1")
        }
        if let at = seen["max_weight"], let maximum = s.maxWeight, maximum < s.weight {
            sink.error(at, "max_weight \(maximum) is below weight \(s.weight)")
        }
        return Located(value: s, keyword: keyword, name: name, seen: seen)
    }
}
