import HealthCheck
import IPVS
import LVSConfig
import LoadFeedback
import NIOCore

/// The pure mapping from what the director knows to the IPVS table it wants.
///
/// Inputs: the configuration, each real server's health, the weights load feedback decided, and the operator's
/// overrides. Rules:
/// - One service per active virtual server (only with `service = lvs`): address + protocol + port, or the
///   firewall mark (in the VIP's family, or its real servers' without a VIP); its scheduler; persistence with
///   `pmask` (one client when unset). Virtual servers sharing a firewall mark (http + https under one mark) are
///   one service: a real server address they share is one destination, in while every one of its checks passes,
///   at the lowest weight any of them gives it.
/// - One destination per active real server, forwarded as the global `network` says (direct: route, nat:
///   masquerade, tunnel: tunnel), on the real server's port (fwmark services: its own port, else 0, which keeps the
///   client's destination port).
/// - Weight: the load-feedback decision when there is one, else the configured weight; at most `max_weight`.
/// - Health: up, and not yet checked (a restarted director keeps serving), are in; down is removed, or kept with
///   weight 0 when `quiesce_server = 1`. While its virtual server is in panic (``PanicState``), and for one check
///   interval after its check timed out (to see whether the others time out too), a server down by a timed-out
///   check stays in at no more than its lowest load weight (``WeightPolicy/minimumWeight(base:)``).
/// - Overrides: drain sets weight 0; down removes; up puts the server in whatever its health.
/// - `sorry_server` is added with weight 1 only when no real server of the virtual server is serving (in the table
///   with a weight above 0).
public enum DesiredTableMapper {
    public struct Inputs: Sendable {
        public var configuration: LVSConfiguration
        /// Missing entries count as `.unknown`.
        public var health: [RealServerID: HealthState]
        /// Missing entries use the configured weight.
        public var weights: [RealServerID: WeightDecision]
        public var overrides: [OverrideKey: ServerOverride]
        /// Virtual servers in panic, by name.
        public var panics: [String: PanicState.Panic]
        /// Servers whose check timed out less than one check interval ago, in a virtual server that may panic: kept
        /// in at their lowest load weight until the interval is over (``PanicState/graced(_:health:now:)``).
        public var graced: Set<RealServerID>
        /// Gives the lowest load weight of a server kept in by panic.
        public var policy: WeightPolicy
        /// Servers removed from the configuration that drain before they are deleted (``RetiringServer``).
        public var retiring: [RetiringServer] = []
        /// The time their reasons are given at.
        public var now: NIODeadline = .uptimeNanoseconds(0)

        public init(
            configuration: LVSConfiguration, health: [RealServerID: HealthState] = [:],
            weights: [RealServerID: WeightDecision] = [:], overrides: [OverrideKey: ServerOverride] = [:],
            panics: [String: PanicState.Panic] = [:], graced: Set<RealServerID> = [], policy: WeightPolicy = WeightPolicy(),
            retiring: [RetiringServer] = [], now: NIODeadline = .uptimeNanoseconds(0)
        ) {
            self.retiring = retiring
            self.now = now
            self.graced = graced
            self.configuration = configuration
            self.health = health
            self.weights = weights
            self.overrides = overrides
            self.panics = panics
            self.policy = policy
        }
    }

    /// The whole table: every service mapped on its own (``mapService(_:_:from:)``), in file order.
    public static func map(_ source: some DesiredTableSource) -> DesiredTable {
        var result = DesiredTable()
        guard source.configuration.global.service == .lvs else { return result }
        for group in serviceGroups(source.configuration.virtualServers) {
            let service = mapService(group.key, group.virtuals, from: source)
            result.table.services.append(service.service)
            result.servers.merge(service.servers) { _, new in new }
            result.sorryServersInUse.formUnion(service.sorryServersInUse)
            result.servingVirtuals.formUnion(service.servingVirtuals)
        }
        return result
    }

    /// One IPVS service of the table: `virtuals` are the active virtual servers that make it (one, or several on one
    /// firewall mark), in file order. Reads `source` for their servers alone, so a director that knows which service
    /// an input touched maps that one (``DesiredTableCache``).
    public static func mapService(
        _ key: ServiceKey, _ virtuals: [VirtualServer], from source: some DesiredTableSource
    ) -> DesiredService {
        let configuration = source.configuration
        let forwarding = forwardingMethod(configuration.global.network)
        let first = virtuals[0]
        var result = DesiredService(
            service: VirtualService(
                key: key, scheduler: IPVS.Scheduler(rawValue: first.scheduler.rawValue),
                persistence: persistence(first), schedulerFlags: schedulerFlags(first.schedulerFlags)))
        // One destination per address and port: the plans of every virtual server naming it, in file order.
        var order: [Destination.ID] = []
        var entries: [Destination.ID: (destination: Destination, plans: [(RealServerID, ServerPlan)])] = [:]
        for virtual in virtuals {
            for server in virtual.realServers where server.active {
                let id = RealServerID(virtual: virtual.name, server: server.name)
                let plan = plan(server, of: virtual, from: source)
                result.servers[id] = plan
                let destination = Destination(
                    address: server.address, port: destinationPort(virtual, server.port), forwarding: forwarding)
                if entries[destination.id] == nil { order.append(destination.id) }
                entries[destination.id, default: (destination, [])].plans.append((id, plan))
            }
        }
        var serving = false
        for destinationID in order {
            guard let entry = entries[destinationID] else { continue }
            var destination = entry.destination
            let plans = entry.plans
            // Shared by several virtual servers (one fwmark): in while every one of them has it in, at the
            // lowest weight any of them gives it (a drain or a quiesce on one port drains the server).
            if let out = plans.first(where: { !$0.1.inTable }), plans.count > 1 {
                for (id, plan) in plans where plan.inTable {
                    result.servers[id] = ServerPlan(
                        inTable: false, weight: nil,
                        reason: "removed: shares \(key) with \(out.0.virtual), where it is \(out.1.reason)")
                }
                continue
            }
            let weights = plans.compactMap { $0.1.inTable ? $0.1.weight : nil }
            guard weights.count == plans.count, let weight = weights.min() else { continue }
            if plans.count > 1, let lowest = plans.first(where: { $0.1.weight == weight }) {
                for (id, plan) in plans where plan.weight != weight {
                    result.servers[id] = ServerPlan(
                        inTable: true, weight: weight,
                        reason: "weight \(weight) of \(lowest.0.virtual) (\(lowest.1.reason)), which shares "
                            + "\(key); here: \(plan.reason)")
                }
            }
            destination.weight = weight
            serving = serving || weight > 0
            result.service.destinations.append(destination)
        }
        if !serving, let virtual = virtuals.first(where: { $0.sorryServer != nil }), let sorry = virtual.sorryServer {
            let sorryServer = Destination(
                address: sorry, port: destinationPort(virtual, nil), forwarding: forwarding, weight: 1)
            if let index = result.service.destinations.firstIndex(where: { $0.id == sorryServer.id }) {
                result.service.destinations[index].weight = 1
            } else {
                result.service.destinations.append(sorryServer)
            }
            result.sorryServersInUse.insert(virtual.name)
        }
        if serving { result.servingVirtuals.formUnion(virtuals.map(\.name)) }
        // Removed from lvs.cf, still draining: weight 0 until its connections are over (unless the
        // configuration names the destination again).
        for retiring in source.retiring(in: key) {
            guard !result.service.destinations.contains(where: { $0.id == retiring.destination.id }) else { continue }
            var destination = retiring.destination
            destination.weight = 0
            result.service.destinations.append(destination)
            result.servers[retiring.id] = ServerPlan(inTable: true, weight: 0, reason: retiring.reason(now: source.now))
        }
        return result
    }

    /// The active virtual servers by IPVS service, in file order: one each, except several virtual servers on one
    /// firewall mark (the parser lets only those share a service), which are one.
    static func serviceGroups(_ virtuals: [VirtualServer]) -> [(key: ServiceKey, virtuals: [VirtualServer])] {
        var groups: [(key: ServiceKey, virtuals: [VirtualServer])] = []
        var index: [ServiceKey: Int] = [:]
        for virtual in virtuals where virtual.active {
            guard let key = serviceKey(virtual) else { continue }
            if let at = index[key] {
                groups[at].virtuals.append(virtual)
            } else {
                index[key] = groups.count
                groups.append((key, [virtual]))
            }
        }
        return groups
    }

    /// The place and weight of active real server `server` of `virtual`, from what `source` knows of it alone.
    static func plan(_ server: RealServer, of virtual: VirtualServer, from source: some DesiredTableSource) -> ServerPlan {
        let id = RealServerID(virtual: virtual.name, server: server.name)
        // A scale-out group keeps a failed server in at weight 0: mh's table depends on the order of the
        // destinations, so a server removed and added back (at the end) would make this director disagree
        // with the others about every flow it touches.
        let scaleOut = source.configuration.global.scaleOut
        return plan(
            server, health: source.health(of: id), weight: source.weight(of: id),
            override: source.override(of: OverrideKey(virtual: virtual.name, address: server.address.description)),
            quiesce: virtual.quiesceServer || scaleOut, scaleOut: scaleOut,
            keep: keep(virtual, server, source.panic(of: virtual.name), graced: source.isGraced(id), source.policy))
    }

    /// Why and at what weight a server whose check timed out stays in: its virtual server's panic, or the check
    /// interval of grace (`graced`); nil when it does not.
    static func keep(
        _ virtual: VirtualServer, _ server: RealServer, _ panic: PanicState.Panic?, graced: Bool, _ policy: WeightPolicy
    ) -> (why: String, lowest: Int)? {
        let lowest = policy.minimumWeight(base: server.weight)
        if let panic { return ("panic, " + panic.summary, lowest) }
        if graced {
            return ("for one check interval (\(virtual.checkInterval) s), to see whether the others time out too", lowest)
        }
        return nil
    }

    /// The place and weight of one real server; `keep`: why and at what weight it stays in although its check
    /// timed out (``keep(_:_:_:graced:_:)``).
    static func plan(
        _ server: RealServer, health: HealthState, weight decision: WeightDecision?, override: ServerOverride?,
        quiesce: Bool, scaleOut: Bool = false, keep: (why: String, lowest: Int)? = nil
    ) -> ServerPlan {
        var weight = decision?.weight ?? server.weight
        var reason = decision?.reason ?? "configured weight \(server.weight)"
        if scaleOut, let decided = decision?.weight {
            // Every director of a group computes the load weights on its own, from samples read at slightly
            // different times; mh gives a flow to another real server wherever two directors' weights differ. On a
            // grid of a quarter of the configured weight, they differ only when the load sits at a step's edge.
            let step = max(1, server.weight / 4)
            let quantized = max(1, Int((Double(decided) / Double(step)).rounded()) * step)
            if quantized != decided {
                weight = quantized
                reason += "; \(quantized) on the group's grid of \(step)"
            }
        }
        if let cap = server.maxWeight, weight > cap {
            weight = cap
            reason += "; capped at max_weight \(cap)"
        }
        switch override {
        case .down?:
            return ServerPlan(inTable: false, weight: nil, reason: "removed: taken down by the operator")
        case .up?:
            if case .down(let failure) = health {
                return ServerPlan(
                    inTable: true, weight: weight,
                    reason: "\(reason); forced up by the operator (health check failed: \(failure))")
            }
            return ServerPlan(inTable: true, weight: weight, reason: "\(reason); forced up by the operator")
        case .drain?, nil:
            break
        }
        if case .down(let failure) = health {
            if let (why, lowest) = keep, override == nil, PanicState.isOverloadSymptom(failure) {
                let kept = min(weight, lowest)
                return ServerPlan(
                    inTable: true, weight: kept,
                    reason: "weight \(kept): kept in at its lowest load weight although its check timed out: \(why)")
            }
            guard quiesce else {
                return ServerPlan(inTable: false, weight: nil, reason: "removed: health check failed: \(failure)")
            }
            return ServerPlan(inTable: true, weight: 0, reason: "weight 0: quiesced, health check failed: \(failure)")
        }
        if override == .drain {
            return ServerPlan(inTable: true, weight: 0, reason: "weight 0: drained by the operator")
        }
        if health == .unknown {
            // A scale-out director draws traffic to itself by announcing: it does so only for servers it has
            // seen answer. In the table at weight 0 meanwhile, in its place in mh's order.
            if scaleOut, override == nil {
                return ServerPlan(inTable: true, weight: 0, reason: "weight 0 until its first check passes (scale_out)")
            }
            reason += " (not checked yet)"
        }
        return ServerPlan(inTable: true, weight: weight, reason: reason)
    }

    /// The IPVS service key of a virtual server; nil if its address cannot be one (the parser prevents that).
    public static func serviceKey(_ virtual: VirtualServer) -> ServiceKey? {
        if let mark = virtual.firewallMark {
            return .firewallMark(mark, family: virtual.family)
        }
        guard let vip = virtual.address?.address else { return nil }
        return .address(virtual.protocol == .udp ? .udp : .tcp, vip, port: virtual.port)
    }

    /// lvs.cf `network` as the IPVS forwarding method.
    public static func forwardingMethod(_ network: LVSConfig.ForwardingMethod) -> IPVS.ForwardingMethod {
        switch network {
        case .direct: .directRoute
        case .nat: .masquerade
        case .tunnel: .tunnel
        }
    }

    static func schedulerFlags(_ flags: Set<SchedulerFlag>) -> VirtualService.SchedulerFlags {
        var result: VirtualService.SchedulerFlags = []
        for flag in flags {
            switch flag {
            case .flag1: result.insert(.flag1)
            case .flag2: result.insert(.flag2)
            case .flag3: result.insert(.flag3)
            }
        }
        return result
    }

    static func persistence(_ virtual: VirtualServer) -> VirtualService.Persistence? {
        guard let timeout = virtual.persistence, timeout > 0 else { return nil }
        let isIPv4 = virtual.family == .ipv4
        let netmask: UInt32
        if let mask = virtual.persistenceNetmask {
            netmask = isIPv4 ? mask.ipv4Mask : UInt32(mask.prefixLength)
        } else {
            netmask = isIPv4 ? 0xffff_ffff : 128
        }
        return VirtualService.Persistence(timeout: UInt32(timeout), netmask: netmask)
    }

    static func destinationPort(_ virtual: VirtualServer, _ serverPort: UInt16?) -> UInt16 {
        virtual.firewallMark == nil ? (serverPort ?? virtual.port) : (serverPort ?? 0)
    }
}

extension DesiredTableMapper {
    /// The table `apply` programs: every active real server up, with its configured weight, no overrides.
    public static func configuredTable(_ configuration: LVSConfiguration) -> IPVSTable {
        var health: [RealServerID: HealthState] = [:]
        for virtual in configuration.virtualServers where virtual.active {
            for server in virtual.realServers where server.active {
                health[RealServerID(virtual: virtual.name, server: server.name)] = .up
            }
        }
        return map(Inputs(configuration: configuration, health: health)).table
    }
}
