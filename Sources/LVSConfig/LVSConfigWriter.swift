import Addressing

/// Writes an `LVSConfiguration` as canonical lvs.cf text: Piranha's layout (tab indents, `key = value`), the
/// keywords in a fixed order, values that equal their default left out except `active`, `address`, `port`,
/// `protocol`, `scheduler`, `weight`, `network` and `service`. `LVSConfigParser.parse(write(c))` gives back `c`.
public enum LVSConfigWriter {
    public static func write(_ configuration: LVSConfiguration) -> String {
        var out = Output()
        let g = configuration.global
        let d = GlobalSettings()
        out.line("serial_no", g.serialNumber, unless: d.serialNumber)
        out.line("primary", g.primary)
        out.line("primary_private", g.primaryPrivate)
        out.line("primary_shared", g.primaryShared.map(quote))
        out.line("backup", g.backup)
        out.line("backup_active", g.backupActive, unless: d.backupActive)
        out.line("backup_private", g.backupPrivate)
        out.line("backup_shared", g.backupShared.map(quote))
        out.line("reservation_conflict_action", g.reservationConflictAction?.rawValue)
        out.line("nat_router", g.natRouter.map { "\($0.address) \($0.deviceLabel)" })
        out.line("nat_nmask", g.natNetmask?.text(for: g.natRouter?.address.family ?? .ipv4))
        out.line("active_cmd", g.activeCommand.map(quote))
        out.line("inactive_cmd", g.inactiveCommand.map(quote))
        out.line("monitor_links", g.monitorLinks, unless: d.monitorLinks)
        out.line("debug_level", quote(g.debugLevel), unless: d.debugLevel)
        out.line("hard_shutdown", g.hardShutdown, unless: d.hardShutdown)
        out.line("ipvsadm", quote(g.ipvsadm), unless: d.ipvsadm)
        out.line("keepalive", g.keepalive, unless: d.keepalive)
        out.line("deadtime", g.deadtime, unless: d.deadtime)
        out.line("rsh_command", quote(g.rshCommand), unless: d.rshCommand)
        out.line("syncdaemon", g.syncDaemon, unless: d.syncDaemon)
        out.line("syncd_iface", g.syncDaemonInterface, unless: d.syncDaemonInterface)
        out.line("syncd_id", g.syncDaemonID, unless: d.syncDaemonID)
        out.line("tcp_timeout", g.tcpTimeout, unless: d.tcpTimeout)
        out.line("tcpfin_timeout", g.tcpFinTimeout, unless: d.tcpFinTimeout)
        out.line("udp_timeout", g.udpTimeout, unless: d.udpTimeout)
        out.line("heartbeat", g.heartbeat, unless: d.heartbeat)
        out.line("heartbeat_port", Int(g.heartbeatPort), unless: Int(d.heartbeatPort))
        out.line("sync", g.fileSync, unless: d.fileSync)
        out.line("network", g.network.rawValue)
        out.line("service", g.service.rawValue)
        switch g.heartbeatAuthentication {
        case .unspecified: break
        case .none: out.line("heartbeat_auth", "none")
        case .hmacSHA256(let keyFile): out.line("heartbeat_key", quote(keyFile))
        }
        out.line("agent_port", Int(g.agentPort), unless: Int(d.agentPort))
        out.line("weight_interval", g.weightInterval, unless: d.weightInterval)
        out.line("load_hold_timeout", g.loadHoldTimeout, unless: d.loadHoldTimeout)
        out.line("load_slow_start", g.loadSlowStart, unless: d.loadSlowStart)
        out.line("mark_rules", g.markRules.rawValue, unless: d.markRules.rawValue)
        out.line("announce_rate", g.announceRate, unless: d.announceRate)
        out.line("drain_timeout", g.drainTimeout, unless: d.drainTimeout)
        out.line("scale_out", g.scaleOut, unless: d.scaleOut)
        out.line("announce_device", g.announceDevice, unless: d.announceDevice)
        out.line("bird_socket", quote(g.birdSocket), unless: d.birdSocket)
        out.line("scale_out_peers", g.scaleOutPeers.isEmpty ? nil : g.scaleOutPeers.map(\.description).joined(separator: " "))

        for v in configuration.virtualServers {
            out.open("virtual", v.name)
            writeShared(v, to: &out)
            let family = v.family
            out.line("sorry_server", v.sorryServer)
            out.line("fwmark", v.firewallMark.map { Int($0) })
            out.line("scheduler", v.scheduler.rawValue)
            out.line(
                "scheduler_flags",
                v.schedulerFlags.isEmpty ? nil : v.schedulerFlags.sorted().map { $0.name(for: v.scheduler) }.joined(separator: ","))
            out.line("persistent", v.persistence)
            out.line("pmask", v.persistenceNetmask?.text(for: family))
            out.line("reentry", v.reentry, unless: 180)
            out.line("quiesce_server", v.quiesceServer, unless: false)
            out.line("load_monitor", v.loadMonitor == .none ? nil : quote(v.loadMonitor.description))
            out.line("check_interval", v.checkInterval, unless: 2)
            out.line("fall", v.fall, unless: 1)
            out.line("panic_threshold", v.panicThreshold, unless: 50)
            for site in v.siteAddresses { out.line("site_address", site) }
            out.line("site_addresses", v.siteAddressFile.map(quote))
            out.line("site_device", v.siteDevice)
            for s in v.realServers {
                out.open("server", s.name)
                out.line("address", s.address)
                out.line("active", s.active)
                out.line("weight", s.weight)
                out.line("port", s.port.map { Int($0) })
                out.line("max_weight", s.maxWeight)
                out.line("server_id", s.serverID.map { quote($0) })
                out.close()
            }
            out.close()
        }
        for f in configuration.failoverServices {
            out.open("failover", f.name)
            writeShared(f, to: &out)
            out.line("start_cmd", f.startCommand.map(quote))
            out.line("stop_cmd", f.stopCommand.map(quote))
            out.line("master", f.master)
            out.line("dirs", f.directories.map { (["["] + $0.map(quote) + ["]"]).joined(separator: " ") })
            out.close()
        }
        return out.text
    }

    private static func writeShared<S: CheckedService>(_ s: S, to out: inout Output) {
        out.line("active", s.active)
        out.line("address", s.vip.map { "\($0.address) \($0.deviceLabel)" })
        out.line("vip_nmask", s.vipNetmask?.text(for: s.vip?.address.family ?? .ipv4))
        out.line("port", Int(s.port))
        out.line("protocol", s.protocol.rawValue)
        out.line("client_monitor", s.clientMonitor.map(quote))
        out.line("send", s.send.map { quote($0, always: true) })
        out.line("expect", s.expect.map { quote($0, always: true) })
        out.line("use_regex", s.useRegex, unless: false)
        out.line("send_program", s.sendProgram.map(quote))
        out.line("timeout", s.timeout, unless: 10)
    }

    /// `text` as one lvs.cf value: bare when that reads back the same, else in double quotes with escapes.
    static func quote(_ text: String) -> String { quote(text, always: false) }

    static func quote(_ text: String, always: Bool) -> String {
        let special: Set<Character> = [" ", "\t", "\"", "'", "\\", "#", "=", "{", "}", "[", "]"]
        let bare =
            !always && !text.isEmpty
            && !text.contains {
                special.contains($0) || $0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
            }
        if bare { return text }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\r": out += "\\r"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private struct Output {
        var text = ""
        var depth = 0

        mutating func line(_ key: String, _ value: String?) {
            guard let value else { return }
            text += String(repeating: "\t", count: depth) + "\(key) = \(value)\n"
        }

        mutating func line(_ key: String, _ value: IPAddress?) { line(key, value?.description) }
        mutating func line(_ key: String, _ value: Int?) { line(key, value.map(String.init)) }
        mutating func line(_ key: String, _ value: Bool) { line(key, value ? "1" : "0") }
        mutating func line(_ key: String, _ value: Double) { line(key, formatSeconds(value)) }

        mutating func line<T: Equatable>(_ key: String, _ value: T, unless defaultValue: T) {
            guard value != defaultValue else { return }
            switch value {
            case let b as Bool: line(key, b)
            case let i as Int: line(key, i)
            case let d as Double: line(key, d)
            case let s as String: line(key, s)
            default: preconditionFailure("no lvs.cf form for \(T.self)")
            }
        }

        mutating func open(_ keyword: String, _ name: String) {
            text +=
                (depth == 0 ? "\n" : "\n" + String(repeating: "\t", count: depth))
                + "\(keyword) \(LVSConfigWriter.quote(name)) {\n"
            depth += 1
        }

        mutating func close() {
            depth -= 1
            text += String(repeating: "\t", count: depth) + "}\n"
        }
    }
}
