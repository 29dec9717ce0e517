import Addressing
import HostSystem
import HealthCheck
import Heartbeat
import IPVS
import LVSConfig
import LoadFeedback
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The one owner of the desired state: every input (health verdict, load round, role change, reload, override)
/// updates the ``DirectorModel`` and reconciles the kernel table with it, so the kernel only sees real changes.
/// A netlink error is logged and counted and the next ``tick()`` retries (never a crash).
public actor DirectorCore {
    public private(set) var model: DirectorModel
    public private(set) var runtime: RuntimeConfiguration
    public private(set) var reconcileState: ReconcileState
    private let kernel: any IPVSKernel
    private let backend: String
    private let store: OverrideStore?
    private let logger: Logger
    private let now: @Sendable () -> NIODeadline
    private let wallClock: @Sendable () -> Double
    private var configLoadedAt: NIODeadline
    private var lastCheckSource: (@Sendable () async -> [RealServerID: HealthCheckRecord])?
    private var failoverSource: (@Sendable () async -> StatusReport.Failover)?
    private var reloadError: String?
    private var reloadHandler: (@Sendable () async -> String?)?
    private var heartbeat: HeartbeatService?
    /// Timeouts and sync daemon as last set; nil when they must be set (again).
    private var appliedTimeouts: IPVSTimeouts?
    private var appliedSyncDaemon: SyncDaemon??
    private var lastSettingsError: String?
    private var settingsFailures = 0
    private var reconciling = false
    private var reconcileAgain = false
    private var weightChanges = 0
    /// The model's ``DirectorModel/tableGeneration`` the kernel was last brought to; nil before the first time.
    private var reconciledGeneration: Int?
    /// Load readings that gave no load, by ``LoadFailure/kind``.
    private var loadFailures: [String: Int] = [:]
    private var reloads = 0
    private var reloadFailures = 0
    private let overridesProblem: String?

    public init(
        runtime: RuntimeConfiguration, kernel: any IPVSKernel, backend: String = "netlink",
        store: OverrideStore? = nil, overrides: [OverrideKey: DirectorModel.OverrideRecord] = [:],
        overridesProblem: String? = nil,
        logger: Logger = Logger(label: "h2e.director"),
        now: @escaping @Sendable () -> NIODeadline = { NIODeadline.now() },
        wallClock: @escaping @Sendable () -> Double = WallClock.seconds
    ) {
        let start = now()
        self.runtime = runtime
        self.model = DirectorModel(configuration: runtime.configuration, overrides: overrides, now: start)
        self.reconcileState = ReconcileState()
        self.kernel = kernel
        self.backend = backend
        self.store = store
        self.logger = logger
        self.now = now
        self.wallClock = wallClock
        self.configLoadedAt = start
        self.overridesProblem = overridesProblem
    }

    /// The heartbeat whose peer state and counters `status` and metrics show.
    public func attach(heartbeat: HeartbeatService?) {
        self.heartbeat = heartbeat
    }

    // MARK: Inputs

    public func healthChanged(_ id: RealServerID, to state: HealthState) async {
        guard model.healthChanged(id, to: state, now: now()) else { return }
        logPanicLines()
        await reconcile()
    }

    /// Counts every reading that gave no load, by kind. Logs a server's failure when it begins or changes kind, and
    /// its recovery: one line per change, not one per round, however long an agent stays dead or keeps answering
    /// garbage.
    private func countAndLogLoadFailures(virtual: String, readings: [String: LoadReading]) {
        for (server, reading) in readings.sorted(by: { $0.key < $1.key }) {
            let id = RealServerID(virtual: virtual, server: server)
            let before = model.loads[id]?.reading.failure
            if let failure = reading.failure {
                loadFailures[failure.kind, default: 0] += 1
                if before?.kind != failure.kind { logger.warning("load of \(id) unusable: \(failure); its weight is held") }
            } else if before != nil {
                logger.notice("load of \(id) readable again")
            }
        }
    }

    /// The panic lines the model queued (rate-limited there): warnings.
    private func logPanicLines() {
        for line in model.takePanicLines(now: now()) { logger.warning("\(line)") }
    }

    /// One round of load readings for `virtual`, keyed by server name.
    public func loadRound(virtual: String, readings: [String: LoadReading]) async {
        countAndLogLoadFailures(virtual: virtual, readings: readings)
        let changed = model.loadRound(virtual: virtual, readings: readings, now: now())
        guard !changed.isEmpty else { return }
        weightChanges += changed.count
        for (id, decision) in changed.sorted(by: { $0.key < $1.key }) {
            logger.info("weight of \(id) is now \(decision.weight): \(decision.reason)")
        }
        await reconcile()
    }

    /// - Parameter takeover: false for a move that is no failover (see ``DirectorModel/roleChanged(to:reason:now:takeover:)``).
    public func roleChanged(to role: DirectorRole, reason: String, takeover: Bool = true) async {
        guard model.roleChanged(to: role, reason: reason, now: now(), takeover: takeover) else { return }
        logger.notice("role \(role): \(reason)")
        await reconcile()
    }

    public func roleStopped() {
        model.roleStopped(now: now())
    }

    /// A configuration that parsed and prepared without problems (SIGHUP): applied as a diff.
    public func reload(_ runtime: RuntimeConfiguration) async {
        self.runtime = runtime
        model.reconfigure(runtime.configuration, now: now())
        logPanicLines()
        configLoadedAt = now()
        reloadError = nil
        reloads += 1
        logger.notice("reloaded \(runtime.file): \(runtime.configuration.virtualServers.filter(\.active).count) active virtual servers")
        for server in model.retiring.values where server.since == model.time {
            let timeout = runtime.configuration.global.drainTimeout
            logger.notice(
                "\(server.id) (\(server.destination.id)) removed from the configuration: draining at weight 0, deleted when no connection is active or in \(timeout) s")
        }
        logUnmatchedOverrides()
        await reconcile()
    }

    /// Saved overrides that name no real server of the configuration (`VIRTUAL ADDRESS`, sorted).
    public var unmatchedOverrides: [String] {
        let configuration = model.configuration
        return model.overrides.keys.sorted().filter { key in
            guard let virtual = configuration.virtualServer(named: key.virtual) else { return true }
            return !virtual.realServers.contains { $0.address.description == key.address }
        }.map(\.description)
    }

    /// One warning line when some overrides match no server (at start and after each reload).
    public func logUnmatchedOverrides() {
        let unmatched = unmatchedOverrides
        guard !unmatched.isEmpty else { return }
        logger.warning(
            "overrides that match no real server of the configuration (kept, acting on nothing; `h2e-director server clear VIRTUAL ADDRESS` removes one): \(unmatched.joined(separator: ", "))")
    }

    /// A SIGHUP whose file is broken: the running configuration stays. Returns `message`.
    @discardableResult
    public func reloadFailed(_ message: String) -> String {
        reloadError = message
        reloadFailures += 1
        return message
    }

    /// `server drain|down|up|clear VIRTUAL ADDRESS`: validated against the configuration, saved, then applied.
    public func override(_ action: OverrideAction, virtual: String, address: String) async throws(ControlError)
        -> String
    {
        // An override left over from an older configuration (reported as unmatched) can still be cleared.
        let stale = OverrideKey(virtual: virtual, address: IPAddress(address)?.description ?? address)
        if action == .clear, model.overrides[stale] != nil, unmatchedOverrides.contains(stale.description) {
            var updated = model
            updated.clearOverride(stale)
            if let store {
                do {
                    try store.save(updated.overrides)
                } catch {
                    throw .persistence("\(error)")
                }
            }
            model = updated
            logger.notice("operator: \(stale): cleared (it matched no real server)")
            return "\(stale): cleared (it matched no real server)"
        }
        guard let vs = model.configuration.virtualServer(named: virtual) else {
            let names = model.configuration.virtualServers.map(\.name).joined(separator: ", ")
            throw .unknownVirtual(virtual, known: names)
        }
        let servers = vs.realServers.filter { $0.address.description == address || IPAddress(address)?.description == $0.address.description }
        guard let server = servers.first else {
            throw .unknownServer(address, virtual: virtual, known: vs.realServers.map(\.address.description))
        }
        let key = OverrideKey(virtual: virtual, address: server.address.description)
        var updated = model
        let previous = updated.applyOverride(action, for: key, at: wallClock())
        if let store {
            do {
                if let problem = try store.save(updated.overrides) {
                    logger.warning("override saved, but its last good copy was not: \(problem)")
                }
            } catch {
                // Not applied: the message says so (OverrideStoreError.unwritable).
                logger.error("operator: \(key) \(action): \(error)")
                throw .persistence("\(error)")
            }
        }
        model = updated
        let now = updated.overrides[key]
        let message: String
        switch (previous?.action, now?.action) {
        case (let old?, nil): message = "\(key): \(old) cleared, health checks decide"
        case (_, .up?): message = "\(key): forced up (until clear, drain or down)"
        case (_, let new?): message = "\(key): \(new) (until up)"
        case (nil, nil): message = "\(key): no override"
        }
        logger.notice("operator: \(message)")
        await reconcile()
        return message
    }

    /// Retries after a failure, and re-reads the kernel table now and then (someone may have used ipvsadm).
    public func tick() async {
        model.tick(now: now())
        logPanicLines()
        await observeRetiring()
        await reconcile()
    }

    /// While servers a reload removed drain, reads the kernel's connection counts each tick; those with no active
    /// connection left, or past `drain_timeout`, are let go and the reconcile deletes them. A failed read is
    /// retried on the next tick (the server keeps draining).
    private func observeRetiring() async {
        guard !model.retiring.isEmpty, !runtime.isFailoverServices else { return }
        let table: IPVSTable
        do {
            table = try await kernel.table()
        } catch {
            logger.warning("draining servers: reading the IPVS table for their connections: \(error) (tried again next second)")
            return
        }
        for (server, why) in model.retiringObserved(table, now: now()) {
            logger.notice("drain of \(server.id) (\(server.destination.id)) over: \(why); deleting it")
        }
    }

    // MARK: Reconcile

    /// Brings the kernel to the desired table (and timeouts and sync daemon to the configuration and role); logs
    /// each change in words.
    ///
    /// Calls do not interleave (the actor is reentrant at every netlink await): a call made while one runs only asks
    /// the running one to go round once more, with the model as it is then.
    public func reconcile() async {
        // service = fos runs no IPVS: the kernel's table (and whatever else uses it) is left alone.
        guard !runtime.isFailoverServices else { return }
        if reconciling {
            reconcileAgain = true
            return
        }
        reconciling = true
        defer { reconciling = false }
        repeat {
            reconcileAgain = false
            await reconcileOnce()
        } while reconcileAgain
    }

    private func reconcileOnce() async {
        await reconcileSettings()
        // Nothing the table depends on changed since the kernel got it, and no read or retry is due: nothing to map.
        let generation = model.tableGeneration
        guard generation != reconciledGeneration || reconcileState.kernelReadDue(now: now()) || reconcileState.needsRetry
        else { return }
        let desired = model.desired.table
        var step = reconcileState.next(desired: desired, now: now())
        if step == .readKernel {
            do {
                let table = try await kernel.table()
                reconcileState.kernelRead(table, now: now())
            } catch {
                fail("reading the IPVS table: \(error)", applied: 0)
                return
            }
            step = reconcileState.next(desired: desired, now: now())
        }
        switch step {
        case .readKernel, .upToDate:
            if reconcileState.needsRetry { logger.notice("IPVS table in step again") }
            reconcileState.upToDate()
            reconciledGeneration = generation
        case .apply(let changes):
            do {
                try await kernel.apply(changes)
                for change in changes { logger.info("ipvs: \(change)") }
                if reconcileState.needsRetry { logger.notice("IPVS table in step again") }
                reconcileState.applied(changes, desired: desired)
                reconciledGeneration = generation
            } catch let error as IPVSApplyError {
                for change in error.appliedChanges { logger.info("ipvs: \(change)") }
                fail("\(error)", applied: error.applied)
            } catch {
                fail("\(error)", applied: 0)
            }
        }
    }

    /// `tcp_timeout`/`tcpfin_timeout`/`udp_timeout` when any is set, and with `syncdaemon = 1` the connection sync
    /// daemon: master on the active director, backup on the backup, on `syncd_iface` with `syncd_id`.
    private func reconcileSettings() async {
        let global = model.configuration.global
        let timeouts = IPVSTimeouts(
            tcp: UInt32(max(global.tcpTimeout, 0)), tcpFin: UInt32(max(global.tcpFinTimeout, 0)),
            udp: UInt32(max(global.udpTimeout, 0)))
        if appliedTimeouts != timeouts {
            if timeouts != IPVSTimeouts(tcp: 0, tcpFin: 0, udp: 0) {
                do {
                    try await kernel.setTimeouts(timeouts)
                    lastSettingsError = nil
                    logger.info("ipvs: timeouts tcp \(timeouts.tcp) tcpfin \(timeouts.tcpFin) udp \(timeouts.udp) (0: kernel's)")
                    appliedTimeouts = timeouts
                } catch {
                    settingsFailed("setting IPVS timeouts: \(error)")
                }
            } else {
                appliedTimeouts = timeouts
            }
        }
        var daemon: SyncDaemon?
        if global.syncDaemon, let role = model.role.role {
            daemon = SyncDaemon(
                state: role == .active ? .master : .backup, interface: global.syncDaemonInterface,
                syncID: UInt8(clamping: global.syncDaemonID))
        }
        if appliedSyncDaemon != .some(daemon) {
            if global.syncDaemon || appliedSyncDaemon != nil {
                do {
                    try await kernel.setSyncDaemon(daemon)
                    lastSettingsError = nil
                    logger.info("ipvs: sync daemon \(daemon.map { "\($0.state) on \($0.interface) id \($0.syncID)" } ?? "stopped")")
                    appliedSyncDaemon = .some(daemon)
                } catch {
                    settingsFailed("setting the IPVS sync daemon: \(error)")
                }
            } else {
                appliedSyncDaemon = .some(daemon)
            }
        }
    }

    /// A timeout or sync daemon setting failed: logged once per new error, counted, retried on the next tick; the
    /// table is reconciled regardless.
    private func settingsFailed(_ message: String) {
        if lastSettingsError != message { logger.error("ipvs: \(message); retrying every second") }
        lastSettingsError = message
        settingsFailures += 1
    }

    private func fail(_ message: String, applied: Int) {
        // One line per failure streak change, not per retry: the same error on every tick would flood the log.
        if reconcileState.lastError != message {
            logger.error("ipvs: \(message); retrying every second")
        }
        reconcileState.failed(message, applied: applied)
    }

    /// On stop with `hard_shutdown = 1`: removes the services of the configuration from the kernel.
    public func removeServices() async {
        let keys = Set(model.desired.table.services.map(\.key))
        do {
            let table = try await kernel.table()
            let changes = table.services.filter { keys.contains($0.key) }.map { IPVSChange.deleteService($0.key) }
            try await kernel.apply(changes)
            for change in changes { logger.info("ipvs: \(change)") }
        } catch {
            logger.error("ipvs: removing services on shutdown failed: \(error)")
        }
    }

    // MARK: Status

    /// Counters for the metrics page.
    public struct Counters: Sendable {
        public var weightChanges: Int
        public var failovers: Int
        public var netlinkErrors: Int
        public var changesApplied: Int
        public var reloads: Int
        public var reloadFailures: Int
        public var role: DirectorRole?
        /// Load readings that gave no load, by ``LoadFailure/kind`` (`timeout`, `malformed`, `wrong_server`...).
        public var loadFailures: [String: Int] = [:]
    }

    public var counters: Counters {
        Counters(
            weightChanges: weightChanges, failovers: model.failovers, netlinkErrors: reconcileState.failures + settingsFailures,
            changesApplied: reconcileState.changesApplied, reloads: reloads, reloadFailures: reloadFailures,
            role: model.role.role, loadFailures: loadFailures)
    }

    /// The kernel table as this director sees it (for `status`-like tools and tests).
    public func kernelTable() async throws -> IPVSTable {
        try await kernel.table()
    }

    /// Where `status` reads each server's most recent check (the health engine), set once the engine runs.
    /// What `reload` on the control socket runs (``ReloadService/reload(reason:)``); set once it exists.
    public func setReloadHandler(_ handler: @escaping @Sendable () async -> String?) {
        reloadHandler = handler
    }

    /// Re-reads lvs.cf as SIGHUP does; nil when the new configuration runs, else why not.
    public func requestReload() async -> String? {
        guard let reloadHandler else { return "this director does not reload yet (it is starting)" }
        return await reloadHandler()
    }

    public func setLastCheckSource(_ source: @escaping @Sendable () async -> [RealServerID: HealthCheckRecord]) {
        lastCheckSource = source
    }

    /// `service = fos`: where `status` reads the failover services' state, set once they run.
    public func setFailoverSource(_ source: @escaping @Sendable () async -> StatusReport.Failover) {
        failoverSource = source
    }

    public func status() async -> StatusReport {
        var report = await lvsStatus()
        report.failover = await failoverSource?()
        return report
    }

    private func lvsStatus() async -> StatusReport {
        StatusReport(
            StatusReport.Inputs(
                model: model, runtime: runtime, now: now(), configLoadedAt: configLoadedAt, reloadError: reloadError,
                overridesProblem: overridesProblem, unmatchedOverrides: unmatchedOverrides, backend: backend,
                reconcile: reconcileState, settingsFailures: settingsFailures, lastSettingsError: lastSettingsError,
                heartbeat: await heartbeat?.statistics, lastChecks: await lastCheckSource?() ?? [:], pid: getpid()))
    }
}

extension DirectorCore {
    /// The heartbeat's counters, nil when standalone.
    public func heartbeatStatistics() async -> HeartbeatStatistics? {
        await heartbeat?.statistics
    }
}
