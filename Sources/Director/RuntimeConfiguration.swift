import Addressing
import HealthCheck
import Heartbeat
import LVSConfig
import LoadFeedback

/// An lvs.cf configuration turned into what the daemon's parts need: health check targets, load sources, the
/// virtual addresses to take over, and the heartbeat settings. Building it is where configuration problems that
/// the parser cannot see are found (a bad regex, a missing heartbeat key, neither primary nor backup being an
/// address of this host), so a reload with such a problem keeps the running configuration.
public struct RuntimeConfiguration: Sendable {
    /// How this director decides its role.
    public enum RolePlan: Sendable {
        /// No backup director configured (`backup_active = 0`, no `backup`, or `heartbeat = 0`): always active.
        case standalone
        /// Heartbeats with the peer; `monitorDevices` are the interfaces watched for `monitor_links`.
        case heartbeat(HeartbeatService.Configuration, monitorDevices: [String])
        /// `scale_out = 1`: always active, one of a group; the VIPs go on `device` (a TUN device this process
        /// owns) for BIRD to announce, and `birdSocket` is read for `status`.
        case scaleOut(device: String, birdSocket: String)

        public var isStandalone: Bool {
            if case .standalone = self { return true }
            return false
        }
    }

    public var configuration: LVSConfiguration
    public var file: String
    /// Each active virtual server's check and timing (its real servers' targets are made from them on demand: a
    /// stored copy of 30,000 targets cost 11 MB).
    public var healthChecks: [String: HealthCheckPlan]

    /// Every active real server's health target, by virtual and real server.
    public var healthTargets: [RealServerID: HealthTarget] {
        var targets: [RealServerID: HealthTarget] = [:]
        for virtual in configuration.virtualServers where virtual.active {
            guard let plan = healthChecks[virtual.name] else { continue }
            for server in virtual.realServers where server.active {
                // Validated when this configuration was made.
                guard let endpoint = try? HealthEndpoint(host: server.address.description, port: Int(virtual.port(of: server)))
                else { continue }
                targets[RealServerID(virtual: virtual.name, server: server.name)] = HealthTarget(
                    endpoint: endpoint, check: plan.check, timing: plan.timing)
            }
        }
        return targets
    }

    public var loadSources: [String: LoadSource]
    /// The VIPs, then the site addresses (``VirtualServer/allSiteAddresses``), each once. Empty with `scale_out`:
    /// those addresses are ``announcements`` instead.
    public var virtualAddresses: [VirtualAddress]
    /// `scale_out = 1`: every VIP and site address as a /32 or /128 on `announce_device`, with the virtual servers
    /// it serves; announced while one of them has a serving real server. nil otherwise.
    public var announcements: [Announcement]? = nil
    /// The marks of the site addresses, one entry per fwmark; nil when no virtual server has site addresses (then
    /// h2e installs and removes no rules at all).
    public var siteMarks: [SiteMarks]? = nil
    /// What installs ``siteMarks`` (lvs.cf `mark_rules`); nil for `none`.
    public var markTool: MarkRuleTool? {
        switch configuration.global.markRules {
        case .nftables: .nftables
        case .iptables: .iptables(legacy: false)
        case .iptablesLegacy: .iptables(legacy: true)
        case .none: nil
        }
    }
    public var role: RolePlan
    /// `service = fos`: the active failover blocks (then there are no virtual servers, health targets or IPVS).
    public var failoverPlans: [FailoverPlan] = []

    public var isFailoverServices: Bool { configuration.global.service == .fos }

    /// - Parameters:
    ///   - localAddresses: this host's addresses (canonical text) and the interface holding each, to find out
    ///     whether it is the primary or the backup.
    ///   - forcedRole: `--role`, overriding that search.
    ///   - loadKey: reads a `heartbeat_key` file (injected so tests need no key file).
    /// - Returns: the configuration, or every problem as a sentence.
    public static func make(
        _ configuration: LVSConfiguration, file: String, localAddresses: [String: String],
        forcedRole: ConfiguredRole? = nil,
        loadKey: (String) throws -> [UInt8] = { path in try HeartbeatAuthentication.loadKey(path: path) }
    ) -> Result<RuntimeConfiguration, RuntimeConfigurationError> {
        var problems: [String] = []
        var checks: [String: HealthCheckPlan] = [:]
        var sources: [String: LoadSource] = [:]
        var addresses: [VirtualAddress] = []
        var sites: [VirtualAddress] = []
        var marks: [UInt32: [IPAddress]] = [:]
        var markOrder: [UInt32] = []
        var plans: [FailoverPlan] = []
        var configuration = configuration
        let global = configuration.global
        if global.service == .fos {
            // Piranha's pulse ran the failover blocks and none of the virtual servers (the parser warns about them).
            configuration.virtualServers = []
            for failover in configuration.failoverServices where failover.active {
                do {
                    let check = try HealthCheck.piranha(
                        protocol: failover.protocol == .udp ? .udp : .tcp, port: Int(failover.port),
                        send: failover.send, expect: failover.expect, useRegex: failover.useRegex,
                        sendProgram: failover.sendProgram)
                    let vip = try VirtualAddress(
                        address: "\(failover.address.address) \(failover.address.deviceLabel)",
                        netmask: failover.vipNetmask.map { String($0.prefixLength) })
                    let endpoint = try HealthEndpoint(host: failover.address.address.description, port: Int(failover.port))
                    guard failover.timeout >= 1 else {
                        throw RuntimeConfigurationError.Message("timeout must be at least 1 second")
                    }
                    plans.append(
                        FailoverPlan(
                            name: failover.name, address: vip, endpoint: endpoint, check: check,
                            interval: .seconds(failover.timeout), startCommand: failover.startCommand,
                            stopCommand: failover.stopCommand))
                    if !addresses.contains(vip) { addresses.append(vip) }
                } catch {
                    problems.append("failover \(failover.name): \(error)")
                }
            }
            if plans.isEmpty {
                problems.append(
                    "service = fos without an active failover block: set active = 1 in the failover block to run, or "
                        + "service = lvs to run the virtual servers")
            }
        }

        for virtual in configuration.virtualServers where virtual.active {
            do {
                let check = try HealthCheck.piranha(
                    protocol: virtual.protocol == .udp ? .udp : .tcp, port: Int(virtual.port), send: virtual.send,
                    expect: virtual.expect, useRegex: virtual.useRegex, sendProgram: virtual.sendProgram)
                let timing = try HealthCheckTiming(
                    timeout: .seconds(virtual.timeout), interval: .seconds(virtual.checkInterval), fall: virtual.fall,
                    reentry: .seconds(virtual.reentry))
                for server in virtual.realServers where server.active {
                    _ = try HealthEndpoint(host: server.address.description, port: Int(virtual.port(of: server)))
                }
                checks[virtual.name] = HealthCheckPlan(check: check, timing: timing)
            } catch {
                problems.append("virtual \(virtual.name): \(error)")
            }
            sources[virtual.name] = loadSource(virtual.loadMonitor, rshCommand: global.rshCommand)
            // A fwmark virtual server without an address brings up no VIP of its own.
            if let address = virtual.address {
                do {
                    let vip = try VirtualAddress(
                        address: "\(address.address) \(address.deviceLabel)",
                        netmask: virtual.vipNetmask.map { String($0.prefixLength) })
                    if !addresses.contains(vip) { addresses.append(vip) }
                } catch {
                    problems.append("virtual \(virtual.name): \(error)")
                }
            }
            // Site addresses: /32 or /128 on the site device, marked with the virtual's fwmark.
            let siteAddresses = virtual.allSiteAddresses
            if let mark = virtual.firewallMark, let device = virtual.effectiveSiteDevice, !siteAddresses.isEmpty {
                if marks[mark] == nil { markOrder.append(mark) }
                for site in siteAddresses {
                    do {
                        let vip = try VirtualAddress(address: "\(site) \(device)")
                        if !sites.contains(vip) { sites.append(vip) }
                        if !(marks[mark]?.contains(site) ?? false) { marks[mark, default: []].append(site) }
                    } catch {
                        problems.append("virtual \(virtual.name): site address \(site): \(error)")
                    }
                }
            }
        }
        for site in sites where !addresses.contains(site) { addresses.append(site) }
        if global.service == .lvs, global.network == .nat, let router = global.natRouter {
            do {
                let vip = try VirtualAddress(
                    address: "\(router.address) \(router.deviceLabel)",
                    netmask: global.natNetmask.map { String($0.prefixLength) })
                if !addresses.contains(vip) { addresses.append(vip) }
            } catch {
                problems.append("nat_router: \(error)")
            }
        }

        var role = RolePlan.standalone
        var announcements: [Announcement]?
        if global.scaleOut, global.service == .lvs {
            role = .scaleOut(device: global.announceDevice, birdSocket: global.birdSocket)
            var byAddress: [IPAddress: Int] = [:]
            var list: [Announcement] = []
            for virtual in configuration.virtualServers where virtual.active {
                for ip in (virtual.address.map { [$0.address] } ?? []) + virtual.allSiteAddresses {
                    if let index = byAddress[ip] {
                        list[index].virtuals.insert(virtual.name)
                        continue
                    }
                    do {
                        let address = try VirtualAddress(address: "\(ip) \(global.announceDevice)")
                        byAddress[ip] = list.count
                        list.append(Announcement(address: address, virtuals: [virtual.name]))
                    } catch {
                        problems.append("virtual \(virtual.name): \(ip) on announce_device: \(error)")
                    }
                }
            }
            announcements = list
            addresses = []
        } else if global.heartbeat, global.backupActive, let primary = global.primary, let backup = global.backup {
            do {
                role = try heartbeatPlan(
                    global, primary: primary, backup: backup, localAddresses: localAddresses, forcedRole: forcedRole,
                    vipDevices: addresses.map(\.device), loadKey: loadKey)
            } catch {
                problems.append("\(error)")
            }
        }
        guard problems.isEmpty else { return .failure(RuntimeConfigurationError(file: file, problems: problems)) }
        var runtime = RuntimeConfiguration(
            configuration: configuration, file: file, healthChecks: checks, loadSources: sources,
            virtualAddresses: addresses, role: role)
        runtime.failoverPlans = plans
        runtime.announcements = announcements
        if !markOrder.isEmpty { runtime.siteMarks = markOrder.map { SiteMarks(mark: $0, addresses: marks[$0] ?? []) } }
        return .success(runtime)
    }

    /// `load_monitor` as a load source: `uptime` runs through `rsh_command` (`rsh ADDRESS uptime`), as nanny did.
    public static func loadSource(_ monitor: LoadMonitor, rshCommand: String) -> LoadSource {
        switch monitor {
        case .none: .none
        case .h2e(let figure): .agent(figure)
        case .remote(.uptime): .program(command: rshCommand, argumentsAfterAddress: ["uptime"])
        case .remote(let command): .program(command: command.rawValue, argumentsAfterAddress: [])
        case .program(let path): .program(command: path, argumentsAfterAddress: [])
        }
    }

    private static func heartbeatPlan(
        _ global: GlobalSettings, primary: IPAddress, backup: IPAddress, localAddresses: [String: String],
        forcedRole: ConfiguredRole?, vipDevices: [String], loadKey: (String) throws -> [UInt8]
    ) throws -> RolePlan {
        let configuredRole: ConfiguredRole
        if let forcedRole {
            configuredRole = forcedRole
        } else if localAddresses[primary.description] != nil {
            configuredRole = .primary
        } else if localAddresses[backup.description] != nil {
            configuredRole = .backup
        } else {
            throw RuntimeConfigurationError.Message(
                "neither primary \(primary) nor backup \(backup) is an address of this host: configure one of them "
                    + "here, or say which this director is with --role primary|backup")
        }
        var pairs = [(primary.description, backup.description)]
        if let p = global.primaryPrivate, let b = global.backupPrivate { pairs.append((p.description, b.description)) }
        let links = pairs.map { p, b in
            configuredRole == .primary ? HeartbeatLink(local: p, peer: b) : HeartbeatLink(local: b, peer: p)
        }
        let authentication: Heartbeat.HeartbeatAuthentication
        switch global.heartbeatAuthentication {
        case .unspecified:
            throw RuntimeConfigurationError.Message(
                "heartbeats are unauthenticated: set heartbeat_key = /path/to/key (a file of at least "
                    + "\(Heartbeat.HeartbeatAuthentication.minimumKeyLength) bytes, mode 0600, the same on both "
                    + "directors), or heartbeat_auth = none to accept that anyone on the network can move the VIPs")
        case .none:
            authentication = .none
        case .hmacSHA256(let keyFile):
            authentication = .hmacSHA256(key: try loadKey(keyFile))
        }
        guard let senderID = PeerConfiguration.senderID(forAddress: links[0].local) else {
            throw RuntimeConfigurationError.Message("\(links[0].local) is not an IP address")
        }
        let peer = try PeerConfiguration(
            role: configuredRole, senderID: senderID, keepalive: .seconds(global.keepalive),
            deadtime: .seconds(global.deadtime), linkCount: links.count, monitorLinks: global.monitorLinks)
        let devices = links.compactMap { localAddresses[$0.local] } + vipDevices
        return .heartbeat(
            HeartbeatService.Configuration(
                peer: peer, links: links, port: Int(global.heartbeatPort), authentication: authentication),
            monitorDevices: global.monitorLinks ? devices : [])
    }
}

/// Problems found while preparing a configuration for the daemon, one sentence each.
public struct RuntimeConfigurationError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var problems: [String]

    public var description: String { problems.map { "\(file): \($0)" }.joined(separator: "\n") }

    struct Message: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

/// `scale_out = 1`: one address a director announces, and the virtual servers that make it worth announcing.
public struct Announcement: Sendable, Hashable {
    /// A /32 or /128 on `announce_device`.
    public var address: VirtualAddress
    public var virtuals: Set<String>
}

/// How the real servers of one virtual server are checked.
public struct HealthCheckPlan: Hashable, Sendable {
    public var check: HealthCheck
    public var timing: HealthCheckTiming
}
