import Addressing
import HealthCheck
import Heartbeat
import IPVS
import LVSConfig
import LoadFeedback
import Logging
import NIOCore
import ScaleOut

/// The whole director as a value: the ``DirectorModel`` (configuration, health, load, weights, overrides, role),
/// where the kernel stands (``ReconcileState``, timeouts, sync daemon), the reconcile pass under way, and the
/// counters. ``handle(_:now:)`` turns each ``DirectorEvent`` into the ``DirectorAction``s that follow from it; an
/// executor (``DirectorCore``) runs them and feeds their outcomes back as events.
///
/// Pure: time comes in as `now`; nothing here does I/O, so every path is tested with made-up events and instants.
///
/// A reconcile pass (timeouts, then sync daemon, then the table: read it when due, apply the diff) has at most one
/// kernel call in flight. An input that arrives meanwhile updates the model at once and asks for one more pass,
/// run when this one ends: inputs never wait on the kernel and kernel calls never interleave.
public struct DirectorState: Sendable {
    /// Counters for the metrics page.
    public struct Counters: Sendable, Hashable {
        public var weightChanges = 0
        public var failovers = 0
        public var netlinkErrors = 0
        public var changesApplied = 0
        public var reloads = 0
        public var reloadFailures = 0
        public var role: DirectorRole?
        /// Load readings that gave no load, by ``LoadFailure/kind`` (`timeout`, `malformed`, `wrong_server`...).
        public var loadFailures: [String: Int] = [:]
        /// `scale_out`: addresses announced and withdrawn since start (each address each time).
        public var announcements = 0
        public var withdrawals = 0
        /// `scale_out`: addresses announced now, and whether the operator drained this director; nil otherwise.
        public var announced: Int?
        public var drained: Bool?
    }

    /// Where a reconcile pass stands.
    enum Pass: Sendable, Hashable {
        case idle
        /// Waiting for the outcome of `call`; `again` when an input moved the model meanwhile (one more pass follows).
        case waiting(Call, again: Bool)
    }

    /// The kernel call a pass waits for.
    enum Call: Sendable, Hashable {
        case timeouts
        case syncDaemon
        case readKernel
        /// The diff towards `desired`, computed at the model's `generation`; `serving` are its serving virtual
        /// servers (``DesiredTable/servingVirtuals``).
        case apply(desired: IPVSTable, generation: Int, serving: Set<String>)
    }

    /// The stages of a pass, in order.
    enum Stage {
        case timeouts, syncDaemon, table, diff, done
    }

    public private(set) var model: DirectorModel
    public private(set) var runtime: RuntimeConfiguration
    public private(set) var reconcile: ReconcileState
    public private(set) var configLoadedAt: NIODeadline
    /// Why the last reload was refused; nil once one succeeds.
    public private(set) var reloadError: String?
    /// Why the saved overrides could not be read at start, if they could not.
    public let overridesProblem: String?
    /// The IPVS backend's name, for `status`.
    public let backend: String
    public private(set) var settingsFailures = 0
    public private(set) var lastSettingsError: String?
    private var weightChanges = 0
    private var reloads = 0
    private var reloadFailures = 0
    private var loadFailures: [String: Int] = [:]
    /// Timeouts and sync daemon as last set; nil when they must be set (again).
    private var appliedTimeouts: IPVSTimeouts?
    private var appliedSyncDaemon: SyncDaemon??
    /// The model's ``DirectorModel/tableGeneration`` the kernel was last brought to; nil before the first time.
    private var reconciledGeneration: Int?
    private(set) var pass = Pass.idle
    /// A read of the draining servers' connections is in flight.
    private var readingConnections = false
    /// `scale_out`: the virtual servers with a serving real server in the kernel's table, as last programmed, and
    /// in the desired table, as last mapped. An address is announced when both serve it: announcing waits for the
    /// kernel, withdrawing does not.
    private var servingInKernel: Set<String> = []
    private var servingDesired: Set<String> = []
    /// `scale_out`: what was last announced (nil: nothing asked yet).
    public private(set) var announced: [VirtualAddress]?
    /// `scale_out`: the operator drained this director (`director drain`): nothing is announced.
    public private(set) var directorDrained: Bool
    private var announcements = 0
    private var withdrawals = 0

    public init(
        runtime: RuntimeConfiguration, overrides: [OverrideKey: DirectorModel.OverrideRecord] = [:],
        overridesProblem: String? = nil, backend: String = "netlink", directorDrained: Bool = false, now: NIODeadline
    ) {
        self.directorDrained = directorDrained
        self.runtime = runtime
        self.model = DirectorModel(configuration: runtime.configuration, overrides: overrides, now: now)
        self.reconcile = ReconcileState()
        self.configLoadedAt = now
        self.overridesProblem = overridesProblem
        self.backend = backend
    }

    // MARK: Events

    /// The actions that follow from `event` at `now`, in order.
    public mutating func handle(_ event: DirectorEvent, now: NIODeadline) -> [DirectorAction] {
        switch event {
        case .health(let id, let state):
            guard model.healthChanged(id, to: state, now: now) else { return [] }
            return panicLines(now: now) + requestPass(now: now)
        case .loadRound(let virtual, let readings):
            var actions = loadFailureLines(virtual: virtual, readings: readings)
            let changed = model.loadRound(virtual: virtual, readings: readings, now: now)
            guard !changed.isEmpty else { return actions }
            weightChanges += changed.count
            for (id, decision) in changed.sorted(by: { $0.key < $1.key }) {
                actions.append(.log(.info, "weight of \(id) is now \(decision.weight): \(decision.reason)"))
            }
            return actions + requestPass(now: now)
        case .roleChanged(let role, let reason, let takeover):
            guard model.roleChanged(to: role, reason: reason, now: now, takeover: takeover) else { return [] }
            return [.log(.notice, "role \(role): \(reason)")] + requestPass(now: now)
        case .roleStopped:
            model.roleStopped(now: now)
            return []
        case .reloaded(let runtime):
            return reloaded(runtime, now: now)
        case .reloadFailed(let message):
            reloadError = message
            reloadFailures += 1
            return []
        case .override(let action, let virtual, let address, let wallTime):
            return override(action, virtual: virtual, address: address, wallTime: wallTime)
        case .tick:
            model.tick(now: now)
            var actions = panicLines(now: now)
            if !model.retiring.isEmpty, !runtime.isFailoverServices, !readingConnections {
                readingConnections = true
                actions.append(.readConnections)
            }
            return actions + requestPass(now: now)
        case .reconcile:
            return requestPass(now: now)
        case .directorDrain(let drain):
            guard runtime.announcements != nil else {
                return [.reply(.failure(.badRequest("director drain and resume need scale_out = 1: an active/backup pair moves its VIPs with the heartbeat (stop the active director to move them)")))]
            }
            guard drain != directorDrained else {
                return [.reply(.success(drain ? "already drained: nothing is announced" : "not drained: announcing"))]
            }
            directorDrained = drain
            let message =
                drain
                ? "drained: every address withdrawn from the routers; open connections finish through the other directors"
                : "resumed: announcing the addresses it can serve"
            return [.saveDirectorDrain(drain), .log(.notice, "operator: director \(message)")] + announcementActions()
                + [.reply(.success(message))]
        case .hardShutdown:
            return [.removeServices(Set(model.desired.table.services.map(\.key)))]
        case .kernelRead(let result):
            return kernelRead(result, now: now)
        case .applied(let changes, let result):
            return applied(changes, result, now: now)
        case .timeoutsSet(let timeouts, let result):
            guard case .waiting(.timeouts, let again) = pass else { return [] }
            var actions: [DirectorAction] = []
            switch result {
            case .success:
                appliedTimeouts = timeouts
                lastSettingsError = nil
                actions.append(
                    .log(.info, "ipvs: timeouts tcp \(timeouts.tcp) tcpfin \(timeouts.tcpFin) udp \(timeouts.udp) (0: kernel's)"))
            case .failure(let failure):
                actions += settingsFailed("setting IPVS timeouts: \(failure)")
            }
            return actions + runPass(from: .syncDaemon, again: again, now: now)
        case .syncDaemonSet(let daemon, let result):
            guard case .waiting(.syncDaemon, let again) = pass else { return [] }
            var actions: [DirectorAction] = []
            switch result {
            case .success:
                appliedSyncDaemon = .some(daemon)
                lastSettingsError = nil
                let what = daemon.map { "\($0.state) on \($0.interface) id \($0.syncID)" } ?? "stopped"
                actions.append(.log(.info, "ipvs: sync daemon \(what)"))
            case .failure(let failure):
                actions += settingsFailed("setting the IPVS sync daemon: \(failure)")
            }
            return actions + runPass(from: .table, again: again, now: now)
        case .connectionsRead(let result):
            readingConnections = false
            switch result {
            case .success(let table):
                let over = model.retiringObserved(table, now: now)
                guard !over.isEmpty else { return [] }
                return over.map { server, why in
                    .log(.notice, "drain of \(server.id) (\(server.destination.id)) over: \(why); deleting it")
                } + requestPass(now: now)
            case .failure(let failure):
                return [
                    .log(.warning, "draining servers: reading the IPVS table for their connections: \(failure) (tried again next second)")
                ]
            }
        case .overridesSaved(let plan, let result):
            return overridesSaved(plan, result, now: now)
        }
    }

    // MARK: Reconcile passes

    /// Starts a pass, or asks the one under way for another. `service = fos` runs no IPVS: the kernel's table (and
    /// whatever else uses it) is left alone.
    private mutating func requestPass(now: NIODeadline) -> [DirectorAction] {
        guard !runtime.isFailoverServices else { return [] }
        switch pass {
        case .idle: return runPass(from: .timeouts, again: false, now: now)
        case .waiting(let call, _):
            pass = .waiting(call, again: true)
            return []
        }
    }

    /// Goes through the stages from `start` until one needs the kernel (its call is the last action) or the pass
    /// ends (then one more starts if `again`).
    private mutating func runPass(from start: Stage, again: Bool, now: NIODeadline) -> [DirectorAction] {
        var stage = start
        var again = again
        var actions: [DirectorAction] = []
        while true {
            switch stage {
            case .timeouts:
                let global = model.configuration.global
                let wanted = IPVSTimeouts(
                    tcp: UInt32(max(global.tcpTimeout, 0)), tcpFin: UInt32(max(global.tcpFinTimeout, 0)),
                    udp: UInt32(max(global.udpTimeout, 0)))
                if appliedTimeouts != wanted {
                    // All zero: the kernel's own values, nothing to set.
                    guard wanted == IPVSTimeouts(tcp: 0, tcpFin: 0, udp: 0) else {
                        pass = .waiting(.timeouts, again: again)
                        return actions + [.setTimeouts(wanted)]
                    }
                    appliedTimeouts = wanted
                }
                stage = .syncDaemon
            case .syncDaemon:
                let global = model.configuration.global
                var wanted: SyncDaemon?
                if global.syncDaemon, let role = model.role.role {
                    wanted = SyncDaemon(
                        state: role == .active ? .master : .backup, interface: global.syncDaemonInterface,
                        syncID: UInt8(clamping: global.syncDaemonID))
                }
                if appliedSyncDaemon != .some(wanted) {
                    guard !global.syncDaemon, appliedSyncDaemon == nil else {
                        pass = .waiting(.syncDaemon, again: again)
                        return actions + [.setSyncDaemon(wanted)]
                    }
                    appliedSyncDaemon = .some(wanted)
                }
                stage = .table
            case .table:
                // Nothing the table depends on changed since the kernel got it, and no read or retry is due: nothing
                // to map (with 30,000 servers, mapping is an idle director's whole cost).
                let due = reconcile.kernelReadDue(now: now) || reconcile.needsRetry
                stage = model.tableGeneration != reconciledGeneration || due ? .diff : .done
            case .diff:
                let generation = model.tableGeneration
                let wanted = model.reconcileTarget()
                let desired = wanted.table
                let changed = reconciledGeneration.flatMap { model.servicesChanged(since: $0) }
                switch reconcile.next(desired: desired, changed: changed, now: now) {
                case .readKernel:
                    pass = .waiting(.readKernel, again: again)
                    return actions + [.readKernel]
                case .apply(let changes):
                    pass = .waiting(
                        .apply(desired: desired, generation: generation, serving: wanted.serving), again: again)
                    servingDesired = wanted.serving
                    return actions + announcementActions() + [.apply(changes)]
                case .upToDate:
                    if reconcile.needsRetry { actions.append(.log(.notice, "IPVS table in step again")) }
                    reconcile.upToDate()
                    reconciledGeneration = generation
                    servingInKernel = wanted.serving
                    servingDesired = wanted.serving
                    actions += announcementActions()
                    stage = .done
                }
            case .done:
                guard again else {
                    pass = .idle
                    return actions
                }
                again = false
                stage = .timeouts
            }
        }
    }

    private mutating func kernelRead(_ result: Result<IPVSTable, CallFailure>, now: NIODeadline) -> [DirectorAction] {
        guard case .waiting(.readKernel, let again) = pass else { return [] }
        switch result {
        case .success(let table):
            reconcile.kernelRead(table, now: now)
            return runPass(from: .diff, again: again, now: now)
        case .failure(let failure):
            return failed("reading the IPVS table: \(failure)", applied: 0) + runPass(from: .done, again: again, now: now)
        }
    }

    private mutating func applied(
        _ changes: [IPVSChange], _ result: Result<Void, CallFailure>, now: NIODeadline
    ) -> [DirectorAction] {
        guard case .waiting(.apply(let desired, let generation, let serving), let again) = pass else { return [] }
        switch result {
        case .success:
            var actions = changes.map { DirectorAction.log(.info, "ipvs: \($0)") }
            if reconcile.needsRetry { actions.append(.log(.notice, "IPVS table in step again")) }
            reconcile.applied(changes, desired: desired)
            reconciledGeneration = generation
            servingInKernel = serving
            servingDesired = serving
            return actions + announcementActions() + runPass(from: .done, again: again, now: now)
        case .failure(let failure):
            let actions = failure.appliedChanges.map { DirectorAction.log(.info, "ipvs: \($0)") }
            return actions + failed("\(failure)", applied: failure.appliedChanges.count)
                + runPass(from: .done, again: again, now: now)
        }
    }

    /// A read or apply failed: one log line per change of error, not per retry (the same error on every tick would
    /// flood the log); the next tick reads the kernel again and retries.
    private mutating func failed(_ message: String, applied: Int) -> [DirectorAction] {
        let line: [DirectorAction] =
            reconcile.lastError == message ? [] : [.log(.error, "ipvs: \(message); retrying every second")]
        reconcile.failed(message, applied: applied)
        return line
    }

    /// A timeout or sync daemon setting failed: logged once per new error, counted, retried on the next pass; the
    /// table is reconciled regardless.
    private mutating func settingsFailed(_ message: String) -> [DirectorAction] {
        let line: [DirectorAction] =
            lastSettingsError == message ? [] : [.log(.error, "ipvs: \(message); retrying every second")]
        lastSettingsError = message
        settingsFailures += 1
        return line
    }

    /// `scale_out`: the addresses to announce now, when they differ from what was last announced. An address is
    /// announced once the kernel's table has a serving real server for one of its virtual servers, and withdrawn
    /// as soon as the desired table has none left (before the kernel is changed) or the operator drains the director.
    private mutating func announcementActions() -> [DirectorAction] {
        guard let plan = runtime.announcements else { return [] }
        let serving = servingInKernel.intersection(servingDesired)
        let wanted = directorDrained ? [] : plan.filter { !$0.virtuals.isDisjoint(with: serving) }.map(\.address)
        guard wanted != announced else { return [] }
        let before = Set(announced ?? [])
        let after = Set(wanted)
        let added = wanted.filter { !before.contains($0) }
        let removed = (announced ?? []).filter { !after.contains($0) }
        announced = wanted
        announcements += added.count
        withdrawals += removed.count
        var actions: [DirectorAction] = [.announce(wanted)]
        if !added.isEmpty { actions.append(.log(.notice, "announcing \(Self.list(added))")) }
        if !removed.isEmpty {
            let why = directorDrained ? "drained by the operator" : "no serving real server"
            actions.append(.log(.notice, "withdrawing \(Self.list(removed)): \(why)"))
        }
        return actions
    }

    private static func list(_ addresses: [VirtualAddress]) -> String {
        let shown = addresses.prefix(5).map(\.address).joined(separator: ", ")
        return addresses.count > 5 ? "\(shown) and \(addresses.count - 5) more" : shown
    }

    // MARK: Inputs

    private mutating func reloaded(_ runtime: RuntimeConfiguration, now: NIODeadline) -> [DirectorAction] {
        self.runtime = runtime
        model.reconfigure(runtime.configuration, now: now)
        var actions = panicLines(now: now)
        configLoadedAt = now
        reloadError = nil
        reloads += 1
        let active = runtime.configuration.virtualServers.filter(\.active).count
        actions.append(.log(.notice, "reloaded \(runtime.file): \(active) active virtual servers"))
        let timeout = runtime.configuration.global.drainTimeout
        for server in model.retiring.values.sorted(by: { "\($0.id)" < "\($1.id)" }) where server.since == model.time {
            actions.append(
                .log(.notice,
                    "\(server.id) (\(server.destination.id)) removed from the configuration: draining at weight 0, deleted when no connection is active or in \(timeout) s"
                ))
        }
        if let warning = unmatchedOverridesWarning { actions.append(.log(.warning, warning)) }
        return actions + announcementActions() + requestPass(now: now)
    }

    /// Validates an operator's override against the running configuration; a valid one is saved before it applies.
    private func override(_ action: OverrideAction, virtual: String, address: String, wallTime: Double)
        -> [DirectorAction]
    {
        // An override left over from an older configuration (reported as unmatched) can still be cleared.
        let stale = OverrideKey(virtual: virtual, address: IPAddress(address)?.description ?? address)
        if action == .clear, model.overrides[stale] != nil, unmatchedOverrides.contains(stale.description) {
            return save(OverridePlan(key: stale, action: .clear, wallTime: wallTime, unmatched: true))
        }
        guard let vs = model.configuration.virtualServer(named: virtual) else {
            let names = model.configuration.virtualServers.map(\.name).joined(separator: ", ")
            return [.reply(.failure(.unknownVirtual(virtual, known: names)))]
        }
        let wanted = IPAddress(address)?.description
        guard let server = vs.realServers.first(where: { $0.address.description == address || $0.address.description == wanted })
        else {
            return [.reply(.failure(.unknownServer(address, virtual: virtual, known: vs.realServers.map(\.address.description))))]
        }
        let key = OverrideKey(virtual: virtual, address: server.address.description)
        return save(OverridePlan(key: key, action: action, wallTime: wallTime, unmatched: false))
    }

    private func save(_ plan: OverridePlan) -> [DirectorAction] {
        var updated = model
        updated.applyOverride(plan.action, for: plan.key, at: plan.wallTime)
        return [.saveOverrides(updated.overrides, plan)]
    }

    private mutating func overridesSaved(
        _ plan: OverridePlan, _ result: Result<String?, CallFailure>, now: NIODeadline
    ) -> [DirectorAction] {
        let key = plan.key
        switch result {
        case .failure(let failure):
            // Not applied: the message says so (OverrideStoreError.unwritable).
            return [
                .log(.error, "operator: \(key) \(plan.action): \(failure)"),
                .reply(.failure(.persistence("\(failure)"))),
            ]
        case .success(let warning):
            var actions: [DirectorAction] = []
            if let warning { actions.append(.log(.warning, "override saved, but its last good copy was not: \(warning)")) }
            let previous = model.applyOverride(plan.action, for: plan.key, at: plan.wallTime)
            let message: String
            if plan.unmatched {
                message = "\(key): cleared (it matched no real server)"
            } else {
                switch (previous?.action, model.overrides[key]?.action) {
                case (let old?, nil): message = "\(key): \(old) cleared, health checks decide"
                case (_, .up?): message = "\(key): forced up (until clear, drain or down)"
                case (_, let new?): message = "\(key): \(new) (until up)"
                case (nil, nil): message = "\(key): no override"
                }
            }
            actions += [.log(.notice, "operator: \(message)"), .reply(.success(message))]
            return actions + requestPass(now: now)
        }
    }

    /// The panic lines the model queued (rate-limited there), as warnings.
    private mutating func panicLines(now: NIODeadline) -> [DirectorAction] {
        model.takePanicLines(now: now).map { .log(.warning, $0) }
    }

    /// Counts every reading that gave no load, by kind. A server's failure is logged when it begins or changes kind,
    /// and its recovery: one line per change, not one per round, however long an agent stays dead or keeps
    /// answering garbage.
    private mutating func loadFailureLines(virtual: String, readings: [String: LoadReading]) -> [DirectorAction] {
        var actions: [DirectorAction] = []
        for (server, reading) in readings.sorted(by: { $0.key < $1.key }) {
            let id = RealServerID(virtual: virtual, server: server)
            let before = model.loads[id]?.reading.failure
            if let failure = reading.failure {
                loadFailures[failure.kind, default: 0] += 1
                if before?.kind != failure.kind { actions.append(.log(.warning, "load of \(id) unusable: \(failure); its weight is held")) }
            } else if before != nil {
                actions.append(.log(.notice, "load of \(id) readable again"))
            }
        }
        return actions
    }

    // MARK: Queries

    public var counters: Counters {
        Counters(
            weightChanges: weightChanges, failovers: model.failovers,
            netlinkErrors: reconcile.failures + settingsFailures, changesApplied: reconcile.changesApplied,
            reloads: reloads, reloadFailures: reloadFailures, role: model.role.role, loadFailures: loadFailures,
            announcements: announcements, withdrawals: withdrawals,
            announced: runtime.announcements == nil ? nil : announced?.count ?? 0,
            drained: runtime.announcements == nil ? nil : directorDrained)
    }

    /// Saved overrides that name no real server of the configuration (`VIRTUAL ADDRESS`, sorted).
    public var unmatchedOverrides: [String] {
        let configuration = model.configuration
        return model.overrides.keys.sorted().filter { key in
            guard let virtual = configuration.virtualServer(named: key.virtual) else { return true }
            return !virtual.realServers.contains { $0.address.description == key.address }
        }.map(\.description)
    }

    /// The warning for ``unmatchedOverrides`` (at start and after each reload), nil when there are none.
    public var unmatchedOverridesWarning: String? {
        let unmatched = unmatchedOverrides
        guard !unmatched.isEmpty else { return nil }
        return "overrides that match no real server of the configuration (kept, acting on nothing; `h2e-director server clear VIRTUAL ADDRESS` removes one): \(unmatched.joined(separator: ", "))"
    }

    /// The `status` report at `now`, with what the director's other services know (nil: that service does not
    /// run): a pure function of the state and its arguments.
    public func report(
        now: NIODeadline, heartbeat: HeartbeatStatistics? = nil, lastChecks: [RealServerID: HealthCheckRecord] = [:],
        failover: StatusReport.Failover? = nil, bird: Result<BirdStatus, BirdControlError>? = nil, pid: Int32
    ) -> StatusReport {
        var report = StatusReport(
            StatusReport.Inputs(
                model: model, runtime: runtime, now: now, configLoadedAt: configLoadedAt, reloadError: reloadError,
                overridesProblem: overridesProblem, unmatchedOverrides: unmatchedOverrides, backend: backend,
                reconcile: reconcile, settingsFailures: settingsFailures, lastSettingsError: lastSettingsError,
                heartbeat: heartbeat, lastChecks: lastChecks, pid: pid))
        report.failover = failover
        report.group = groupReport(bird: bird)
        return report
    }

    /// The `status` of a scale-out director: what it announces and why the rest is not; nil otherwise.
    func groupReport(bird: Result<BirdStatus, BirdControlError>?) -> StatusReport.Group? {
        guard let plan = runtime.announcements, case .scaleOut(let device, let socket) = runtime.role else { return nil }
        let announcedNow = Set(announced ?? [])
        var missing: [StatusReport.NotAnnounced] = []
        for entry in plan where !announcedNow.contains(entry.address) {
            let reason: String
            if directorDrained {
                reason = "director drained by the operator (`h2e-director director resume` announces again)"
            } else if announced == nil {
                reason = "starting: waiting for the IPVS table and a passed health check"
            } else if entry.virtuals.isDisjoint(with: servingInKernel.intersection(servingDesired)) {
                reason = "no real server of \(entry.virtuals.sorted().joined(separator: ", ")) passes its checks at a weight above 0"
            } else {
                reason = "waiting for the next reconcile pass"
            }
            missing.append(StatusReport.NotAnnounced(address: entry.address.address, reason: reason))
        }
        var birdStatus: BirdStatus?
        var birdError: String?
        switch bird {
        case .success(let status)?: birdStatus = status
        case .failure(let error)?: birdError = "\(error)"
        case nil: birdError = "not asked"
        }
        return StatusReport.Group(
            device: device, drained: directorDrained, announced: (announced ?? []).map(\.address), notAnnounced: missing,
            announcements: announcements, withdrawals: withdrawals, birdSocket: socket, bird: birdStatus,
            birdError: birdError)
    }
}
