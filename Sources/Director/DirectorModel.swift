import HealthCheck
import Heartbeat
import IPVS
import LVSConfig
import LoadFeedback
import NIOCore

/// Everything the director knows, as a value: the configuration, each real server's health and load, the weights
/// load feedback decided, the operator's overrides and this director's role. Every input is a mutating method that
/// says whether the desired table may have changed; ``desired`` maps it all to the table (``DesiredTableMapper``).
///
/// Pure: time comes in as `now` (the director's monotonic clock, `NIODeadline`), so tests drive it with made-up
/// instants.
public struct DirectorModel: Sendable {
    /// A real server's health verdict and since when.
    public struct HealthRecord: Sendable, Hashable {
        public var state: HealthState
        public var since: NIODeadline
    }

    /// A real server's last load reading and when it arrived.
    public struct LoadRecord: Sendable, Hashable {
        public var reading: LoadReading
        public var receivedAt: NIODeadline
    }

    /// An override and when it was set (seconds since the Unix epoch, so it survives restarts).
    public struct OverrideRecord: Sendable, Hashable, Codable {
        public var action: ServerOverride
        public var setAt: Double

        public init(action: ServerOverride, setAt: Double) {
            self.action = action
            self.setAt = setAt
        }
    }

    /// This director's role, and where it stands before the heartbeat (or standalone mode) decides and after it
    /// stopped.
    public struct RoleRecord: Sendable, Hashable {
        public enum Phase: String, Sendable, Hashable {
            case starting, active, backup, stopped
        }

        public var phase: Phase
        public var reason: String
        public var since: NIODeadline

        /// The decided role: nil while starting and once stopped.
        public var role: DirectorRole? {
            switch phase {
            case .active: .active
            case .backup: .backup
            case .starting, .stopped: nil
            }
        }
    }

    public private(set) var configuration: LVSConfiguration
    public private(set) var health: [RealServerID: HealthRecord] = [:]
    public private(set) var loads: [RealServerID: LoadRecord] = [:]
    public private(set) var overrides: [OverrideKey: OverrideRecord]
    public private(set) var role: RoleRecord
    public private(set) var failovers = 0
    /// The overload guard: which virtual servers are in panic, since when, how often (``PanicState``).
    public private(set) var panic = PanicState()
    /// The latest instant an input or ``tick(now:)`` brought: the end of a timed-out server's check interval of
    /// grace is judged against it.
    public private(set) var time: NIODeadline
    private var feedback: [String: LoadFeedbackGroup<String>] = [:]
    /// Goes up with every input that may change ``desired``; an input that cannot (a first check that finds a server
    /// up, a load round that moves no weight, a tick that ends no grace) leaves it. So the director maps and diffs
    /// the whole table only when something changed, not on every tick: with 30,000 servers that mapping is the
    /// cost of an idle director.
    public private(set) var tableGeneration = 0
    /// Servers a reload removed, draining before they are deleted (by id).
    public private(set) var retiring: [RealServerID: RetiringServer] = [:]
    /// The desired IPVS table, service by service: an input marks the service it moved, and the reconcile loop
    /// maps and diffs those alone (``reconcileTarget()``, ``servicesChanged(since:)``).
    private var cache: DesiredTableCache
    /// The servers down with an overload symptom (``PanicState/isOverloadSymptom(_:)``): the only ones a grace can
    /// keep in (``graced``).
    private var overloadDown: Set<RealServerID> = []
    /// The weight policy of the configuration (`load_hold_timeout`, `load_slow_start`); a reload that changes it
    /// applies it to every server at once, keeping their weights.
    public var policy: WeightPolicy { WeightPolicy(configuration.global) }

    public init(configuration: LVSConfiguration, overrides: [OverrideKey: OverrideRecord] = [:], now: NIODeadline) {
        self.configuration = configuration
        self.overrides = overrides
        self.role = RoleRecord(phase: .starting, reason: "starting", since: now)
        self.time = now
        self.cache = DesiredTableCache(configuration, generation: 0)
        syncServers(now: now)
    }

    // MARK: Queries

    /// The table the director wants now, with the reason for every real server: the whole configuration mapped
    /// (for `status`; the reconcile loop uses ``reconcileTarget()``).
    public var desired: DesiredTable {
        DesiredTableMapper.map(source)
    }

    /// The IPVS table the director wants now and its serving virtual servers (``DesiredTable/servingVirtuals``),
    /// with only the services that moved since the last call mapped again.
    public mutating func reconcileTarget() -> (table: IPVSTable, serving: Set<String>) {
        cache.refresh(from: source)
        return (cache.table, cache.servingVirtuals)
    }

    /// The services of ``reconcileTarget()`` that moved after ``tableGeneration`` was `generation`; nil when the
    /// configuration was replaced since (every service may have).
    public func servicesChanged(since generation: Int) -> Set<ServiceKey>? {
        cache.servicesChanged(since: generation)
    }

    /// Real servers mapped by ``reconcileTarget()`` since start: an input's cost, for tests.
    public var serversMapped: Int { cache.serversMapped }

    /// The model as the mapper reads it.
    private var source: Source {
        Source(model: self, graced: graced)
    }

    /// The model as ``DesiredTableMapper`` reads it, with the grace set computed once.
    private struct Source: DesiredTableSource {
        let model: DirectorModel
        let graced: Set<RealServerID>

        var configuration: LVSConfiguration { model.configuration }
        var policy: WeightPolicy { model.policy }
        var now: NIODeadline { model.time }
        func health(of id: RealServerID) -> HealthState { model.health[id]?.state ?? .unknown }
        func weight(of id: RealServerID) -> WeightDecision? { model.weight(of: id) }
        func override(of key: OverrideKey) -> ServerOverride? { model.overrides[key]?.action }
        func panic(of virtual: String) -> PanicState.Panic? { model.panic.panics[virtual] }
        func isGraced(_ id: RealServerID) -> Bool { graced.contains(id) }
        func retiring(in service: ServiceKey) -> [RetiringServer] {
            guard !model.retiring.isEmpty else { return [] }
            return model.retiring.values.filter { $0.service == service }.sorted { "\($0.id)" < "\($1.id)" }
        }
    }

    /// Servers kept in for one check interval after their check timed out (``PanicState/graced(_:health:now:)``).
    /// Costs the servers down with a timeout, not the configuration.
    public var graced: Set<RealServerID> {
        guard !overloadDown.isEmpty else { return [] }
        var byVirtual: [String: [RealServerID: (state: HealthState, since: NIODeadline)]] = [:]
        for id in overloadDown {
            if let record = health[id] { byVirtual[id.virtual, default: [:]][id] = (record.state, record.since) }
        }
        var result = Set<RealServerID>()
        for (name, records) in byVirtual {
            guard let virtual = configuration.virtualServer(named: name), virtual.active else { continue }
            result.formUnion(panic.graced(virtual, health: records, now: time))
        }
        return result
    }

    /// The load-feedback weight of every real server whose virtual server has a `load_monitor`.
    public var weights: [RealServerID: WeightDecision] {
        var result: [RealServerID: WeightDecision] = [:]
        for (virtual, group) in feedback {
            for server in group.states.keys {
                let id = RealServerID(virtual: virtual, server: server)
                result[id] = weight(of: id)
            }
        }
        return result
    }

    /// The load-feedback weight of one server; nil when its virtual server has no `load_monitor`.
    public func weight(of id: RealServerID) -> WeightDecision? {
        feedbackState(of: id).map { WeightDecision(weight: $0.weight, reason: $0.reason, changed: false) }
    }

    /// The feedback state of one server (counters, last load), if its virtual server has a `load_monitor`.
    public func feedbackState(of id: RealServerID) -> LoadFeedbackState? {
        feedback[id.virtual]?.states[id.server]
    }

    /// Every active real server of every active virtual server, in configuration order.
    public var activeServers: [(id: RealServerID, virtual: VirtualServer, server: RealServer)] {
        configuration.virtualServers.filter(\.active).flatMap { virtual in
            virtual.realServers.filter(\.active).map {
                (RealServerID(virtual: virtual.name, server: $0.name), virtual, $0)
            }
        }
    }

    /// The servers whose load should be read this round, per virtual server with a `load_monitor`: those in the
    /// table (a removed server's load moves nothing).
    public func loadTargets() -> [String: [RealServerID: RealServer]] {
        guard configuration.virtualServers.contains(where: { $0.active && $0.loadMonitor != .none }) else { return [:] }
        let plans = desired.servers
        var result: [String: [RealServerID: RealServer]] = [:]
        for (id, virtual, server) in activeServers where virtual.loadMonitor != .none {
            guard plans[id]?.inTable == true else { continue }
            result[virtual.name, default: [:]][id] = server
        }
        return result
    }

    // MARK: Inputs

    /// A health verdict for `id`. Returns whether it changed. A server that comes back after being down starts
    /// slowly (load feedback's slow start), unless panic kept it in the table meanwhile (it was serving). The panic
    /// state of its virtual server follows (its log lines: ``takePanicLines(now:)``).
    ///
    /// Cost: the server's own virtual server, not the whole configuration (a first round of checks over 30,000
    /// servers brings 30,000 of these).
    @discardableResult
    public mutating func healthChanged(_ id: RealServerID, to state: HealthState, now: NIODeadline) -> Bool {
        let previous = health[id]?.state ?? .unknown
        advance(to: now)
        guard previous != state, let before = desiredPlan(of: id) else { return false }
        let panicked = panic.panics[id.virtual] != nil
        health[id] = HealthRecord(state: state, since: now)
        if case .down(let failure) = state, PanicState.isOverloadSymptom(failure) {
            overloadDown.insert(id)
        } else {
            overloadDown.remove(id)
        }
        if state == .up, case .down = previous, !before.isServing {
            feedback[id.virtual]?.readmit(id.server, at: now)
        }
        updatePanic(virtual: id.virtual, now: now)
        // Panic starting or ending moves the other servers of the virtual server; otherwise only this one can move.
        if panic.panics[id.virtual] != nil || panicked || !(desiredPlan(of: id)?.sameEntry(as: before) ?? false) {
            moved(virtual: id.virtual)
        }
        return true
    }

    /// Time passes (the director's tick, every second). Returns whether the desired table may have changed: a timed-out
    /// server's check interval of grace ended.
    @discardableResult
    public mutating func tick(now: NIODeadline) -> Bool {
        let generation = tableGeneration
        advance(to: now)
        return tableGeneration != generation
    }

    /// Moves the model's time on. Every input does: a grace ends when time passes its interval, whichever input
    /// brought the time.
    private mutating func advance(to now: NIODeadline) {
        guard now > time else { return }
        guard !overloadDown.isEmpty else {
            time = now
            return
        }
        let before = graced
        time = now
        let ended = before.symmetricDifference(graced)
        guard !ended.isEmpty else { return }
        tableGeneration += 1
        for virtual in Set(ended.map(\.virtual)) { cache.invalidate(virtual: virtual, generation: tableGeneration) }
    }

    /// An input moved the table's entries for virtual server `name`, and only those.
    private mutating func moved(virtual name: String) {
        tableGeneration += 1
        cache.invalidate(virtual: name, generation: tableGeneration)
    }

    /// The panic log lines queued since the last call, and those the rate limit held back whose time has come.
    public mutating func takePanicLines(now: NIODeadline) -> [String] {
        panic.flush(now: now)
        return panic.takeLines()
    }

    /// The plan of one active server of an active virtual server, computed for its virtual server alone; nil for
    /// any other.
    private func desiredPlan(of id: RealServerID) -> ServerPlan? {
        guard let virtual = configuration.virtualServer(named: id.virtual), virtual.active,
            let server = virtual.realServers.first(where: { $0.name == id.server && $0.active })
        else { return nil }
        return DesiredTableMapper.plan(server, of: virtual, from: source)
    }

    private mutating func updatePanic(virtual name: String, now: NIODeadline) {
        guard let virtual = configuration.virtualServer(named: name), virtual.active else { return }
        let states = virtual.realServers.filter(\.active).map {
            health[RealServerID(virtual: name, server: $0.name)]?.state ?? .unknown
        }
        panic.update(virtual: name, health: states, threshold: virtual.panicThreshold, now: now)
    }

    /// One round of load readings for the servers of `virtual`, keyed by server name. Returns the weights that
    /// changed, with their reasons.
    @discardableResult
    public mutating func loadRound(virtual: String, readings: [String: LoadReading], now: NIODeadline)
        -> [RealServerID: WeightDecision]
    {
        advance(to: now)
        guard var group = feedback[virtual] else { return [:] }
        for (server, reading) in readings where group.states[server] != nil {
            loads[RealServerID(virtual: virtual, server: server)] = LoadRecord(reading: reading, receivedAt: now)
        }
        let decisions = group.apply(readings, now: now)
        feedback[virtual] = group
        var changed: [RealServerID: WeightDecision] = [:]
        for (server, decision) in decisions where decision.changed {
            changed[RealServerID(virtual: virtual, server: server)] = decision
        }
        if !changed.isEmpty { moved(virtual: virtual) }
        return changed
    }

    /// Applies an operator's action (see ``OverrideAction``). Returns the previous override.
    @discardableResult
    public mutating func applyOverride(_ action: OverrideAction, for key: OverrideKey, at wallTime: Double)
        -> OverrideRecord?
    {
        let previous = overrides[key]
        moved(virtual: key.virtual)
        switch action {
        case .drain: overrides[key] = OverrideRecord(action: .drain, setAt: wallTime)
        case .down: overrides[key] = OverrideRecord(action: .down, setAt: wallTime)
        case .up:
            if previous == nil || previous?.action == .up {
                overrides[key] = previous ?? OverrideRecord(action: .up, setAt: wallTime)
            } else {
                overrides[key] = nil
            }
        case .clear: overrides[key] = nil
        }
        return previous
    }

    /// The role the heartbeat (or standalone mode) decided. Returns whether it changed; a change between active and
    /// backup (not the first decision) counts as a failover unless `takeover` is false: a primary that starts as
    /// backup and becomes active because it never heard a peer took nothing over.
    @discardableResult
    public mutating func roleChanged(
        to newRole: DirectorRole, reason: String, now: NIODeadline, takeover: Bool = true
    ) -> Bool {
        guard role.role != newRole else { return false }
        tableGeneration += 1
        if role.role != nil && takeover { failovers += 1 }
        role = RoleRecord(phase: newRole == .active ? .active : .backup, reason: reason, since: now)
        return true
    }

    /// The director stopped its heartbeat.
    public mutating func roleStopped(now: NIODeadline) {
        tableGeneration += 1
        role = RoleRecord(phase: .stopped, reason: "stopped", since: now)
    }

    /// A new configuration (SIGHUP): servers no longer configured lose their health, load and feedback state; new
    /// ones start unchecked; unchanged ones keep everything. Overrides are kept (they name addresses, and an
    /// operator's decision outlives a reload).
    ///
    /// A server that was in the table and that the new configuration drops from a service it keeps drains first
    /// (``RetiringServer``, lvs.cf `drain_timeout`; 0 deletes it at once).
    public mutating func reconfigure(_ configuration: LVSConfiguration, now: NIODeadline) {
        advance(to: now)
        tableGeneration += 1
        let drainTimeout = TimeAmount.seconds(Int64(configuration.global.drainTimeout))
        // Whatever was in the table may have to drain: those already draining as they are, the others from now.
        let wasIn = retiring.merging(destinations(in: desired, since: now, deadline: now + drainTimeout)) { old, _ in old }
        self.configuration = configuration
        cache.rebuild(configuration, generation: tableGeneration)
        syncServers(now: now)
        retiring = [:]
        if drainTimeout > .zero {
            let after = desired.table
            retiring = wasIn.filter { _, entry in
                guard let service = after[entry.service] else { return false }
                return !service.destinations.contains { $0.id == entry.destination.id }
            }
        }
        let active = configuration.virtualServers.filter(\.active).map(\.name)
        panic.retain(Set(active))
        for name in active { updatePanic(virtual: name, now: now) }
    }

    /// Every destination of `table` with the configured server it stands for, as a retirement from `since`.
    private func destinations(
        in table: DesiredTable, since: NIODeadline, deadline: NIODeadline
    ) -> [RealServerID: RetiringServer] {
        var result: [RealServerID: RetiringServer] = [:]
        for virtual in configuration.virtualServers where virtual.active {
            guard let key = DesiredTableMapper.serviceKey(virtual), let service = table.table[key] else { continue }
            for server in virtual.realServers where server.active {
                let id = RealServerID(virtual: virtual.name, server: server.name)
                let port = DesiredTableMapper.destinationPort(virtual, server.port)
                guard table.servers[id]?.inTable == true,
                    let destination = service.destinations.first(where: { $0.address == server.address && $0.port == port })
                else { continue }
                result[id] = RetiringServer(id: id, service: key, destination: destination, since: since, deadline: deadline)
            }
        }
        return result
    }

    /// The kernel's table, read while servers retire: their active connections; those with none, and those past
    /// their deadline, are let go (the next reconcile deletes them). Returns the servers let go, with why.
    public mutating func retiringObserved(_ kernel: IPVSTable, now: NIODeadline) -> [(RetiringServer, String)] {
        advance(to: now)
        var done: [(RetiringServer, String)] = []
        for (id, var entry) in retiring {
            let current = kernel[entry.service]?.destinations.first { $0.id == entry.destination.id }
            entry.activeConnections = current?.activeConnections
            if current == nil || current?.activeConnections == 0 {
                done.append((entry, current == nil ? "gone from the kernel's table" : "no active connection left"))
                retiring[id] = nil
            } else if now >= entry.deadline {
                done.append((entry, "drain_timeout over with \(entry.activeConnections ?? 0) active connections"))
                retiring[id] = nil
            } else {
                retiring[id] = entry
            }
        }
        if !done.isEmpty {
            tableGeneration += 1
            for (entry, _) in done { cache.invalidate(service: entry.service, generation: tableGeneration) }
        }
        return done
    }

    /// Makes health, loads and feedback groups follow the active servers of the configuration.
    private mutating func syncServers(now: NIODeadline) {
        let active = activeServers
        let ids = Set(active.map(\.id))
        health = health.filter { ids.contains($0.key) }
        overloadDown = overloadDown.filter { ids.contains($0) }
        loads = loads.filter { ids.contains($0.key) }
        var groups: [String: LoadFeedbackGroup<String>] = [:]
        let policy = self.policy
        for (id, virtual, server) in active where virtual.loadMonitor != .none {
            var group = groups[id.virtual] ?? feedback[id.virtual] ?? LoadFeedbackGroup(policy: policy)
            group.policy = policy
            group.add(id.server, baseWeight: server.weight, admittedAt: nil, now: now)
            groups[id.virtual] = group
        }
        for (virtual, var group) in groups {
            let names = Set(active.filter { $0.id.virtual == virtual }.map(\.id.server))
            for server in group.states.keys where !names.contains(server) { group.remove(server) }
            groups[virtual] = group
        }
        feedback = groups
    }
}
