import Addressing
import HealthCheck
import Heartbeat
import HostSystem
import LVSConfig
import NIOCore

extension StatusReport {
    /// What `status` shows, gathered by ``DirectorState/report(now:heartbeat:lastChecks:failover:pid:)`` at one instant: ``init(_:)`` is a pure function of it.
    struct Inputs {
        var model: DirectorModel
        var runtime: RuntimeConfiguration
        var now: NIODeadline
        var configLoadedAt: NIODeadline
        var reloadError: String?
        var overridesProblem: String?
        var unmatchedOverrides: [String]
        var backend: String
        var reconcile: ReconcileState
        var settingsFailures: Int
        var lastSettingsError: String?
        /// The heartbeat's counters and peer state; nil when standalone.
        var heartbeat: HeartbeatStatistics?
        var lastChecks: [RealServerID: HealthCheckRecord]
        var pid: Int32
    }

    /// The report of `inputs`: ages are taken at `inputs.now`.
    init(_ inputs: Inputs) {
        let model = inputs.model
        let runtime = inputs.runtime
        let now = inputs.now
        let seconds = { (from: NIODeadline) in Double((now - from).nanoseconds) / 1e9 }
        let statistics = inputs.heartbeat
        let lastChecks = inputs.lastChecks
        let reconcileState = inputs.reconcile
        let (configLoadedAt, reloadError, pid) = (inputs.configLoadedAt, inputs.reloadError, inputs.pid)
        let (overridesProblem, unmatchedOverrides, backend) = (inputs.overridesProblem, inputs.unmatchedOverrides, inputs.backend)
        let (settingsFailures, lastSettingsError) = (inputs.settingsFailures, inputs.lastSettingsError)
        let desired = model.desired
        let configuration = model.configuration
        let roleName = model.role.phase.rawValue
        var configuredRole: String?
        if case .heartbeat(let settings, _) = runtime.role { configuredRole = settings.peer.role.description }
        let director = StatusReport.Director(
            role: roleName, roleReason: model.role.reason, roleAgeSeconds: seconds(model.role.since),
            standalone: runtime.role.isStandalone, configuredRole: configuredRole,
            peer: statistics.flatMap { heartbeat in
                heartbeat.peer.map {
                    .init(
                        state: $0.state.description, configuredRole: $0.configuredRole.description, fit: $0.fit,
                        alive: heartbeat.peerAlive, heardAgeSeconds: heartbeat.sinceHeard.map { Double($0.components.seconds) + Double($0.components.attoseconds) * 1e-18 })
                }
            },
            silentLinks: statistics?.silentLinks ?? [], failovers: model.failovers,
            heartbeatRejects: statistics?.rejections.values.reduce(0, +) ?? 0,
            heartbeatRejectsByReason: Dictionary(uniqueKeysWithValues: (statistics?.rejections ?? [:]).map { ($0.key.label, $0.value) }),
            heartbeatsAccepted: statistics?.accepted ?? 0, configFile: runtime.file,
            configAgeSeconds: seconds(configLoadedAt), reloadError: reloadError, pid: pid,
            overridesProblem: overridesProblem, unmatchedOverrides: unmatchedOverrides)
        let ipvs = StatusReport.IPVS(
            backend: backend, changesApplied: reconcileState.changesApplied,
            errors: reconcileState.failures + settingsFailures, consecutiveErrors: reconcileState.consecutiveFailures,
            lastError: reconcileState.lastError ?? lastSettingsError)
        var virtuals: [StatusReport.Virtual] = []
        for virtual in configuration.virtualServers where virtual.active {
            var servers: [StatusReport.Server] = []
            for server in virtual.realServers where server.active {
                let id = RealServerID(virtual: virtual.name, server: server.name)
                let health = model.health[id]
                let healthName = (health?.state ?? .unknown).name
                var detail: String?
                if case .down(let failure)? = health?.state { detail = "\(failure)" }
                let feedback = model.feedbackState(of: id)
                var loadError: String?
                if case .failed(let failure)? = model.loads[id]?.reading { loadError = "\(failure)" }
                let plan = desired.servers[id]
                let override = model.overrides[OverrideKey(virtual: virtual.name, address: server.address.description)]
                let address = server.address.description
                servers.append(
                    StatusReport.Server(
                        name: server.name, address: address, port: Int(virtual.port(of: server)), health: healthName,
                        healthDetail: detail, healthAgeSeconds: health.map { seconds($0.since) },
                        lastCheck: lastChecks[id].map { $0.failure.map { "failed: \($0)" } ?? "passed" },
                        lastCheckAgeSeconds: lastChecks[id].map { record in
                            seconds(record.completedAt)
                        },
                        check: runtime.healthChecks[id.virtual].map { "\($0.check)" } ?? "none",
                        load: feedback?.lastLoad, loadAgeSeconds: feedback?.lastSampleAt.map(seconds),
                        loadError: loadError,
                        loadSignal: feedback.flatMap { $0.lastLoad == nil ? nil : "\($0.signal)" },
                        configuredWeight: server.weight, weight: plan?.weight,
                        inTable: plan?.inTable ?? false, reason: plan?.reason ?? "not active",
                        override: override?.action.rawValue, overrideSince: override?.setAt,
                        agentURL: virtual.loadMonitor.isAgent
                            ? "http://\(HostPort(host: address, port: Int(configuration.global.agentPort)))/" : nil))
            }
            // Servers a reload removed that still drain (``RetiringServer``): health "draining", the drain's progress
            // as the reason.
            for retiring in model.retiring.values.sorted(by: { $0.id.server < $1.id.server })
            where retiring.id.virtual == virtual.name && !servers.contains(where: { $0.name == retiring.id.server }) {
                servers.append(
                    StatusReport.Server(
                        name: retiring.id.server, address: retiring.destination.address.description,
                        port: Int(retiring.destination.port), health: "draining", healthDetail: nil,
                        healthAgeSeconds: seconds(retiring.since), check: "none (removed from lvs.cf)", load: nil,
                        loadAgeSeconds: nil, loadError: nil, configuredWeight: 0, weight: 0, inTable: true,
                        reason: desired.servers[retiring.id]?.reason ?? retiring.reason(now: now), override: nil,
                        overrideSince: nil, agentURL: nil))
            }
            virtuals.append(
                StatusReport.Virtual(
                    name: virtual.name, service: DesiredTableMapper.serviceKey(virtual).map { "\($0)" } ?? "?",
                    address: virtual.address.map { "\($0)" } ?? "none (fwmark \(virtual.firewallMark ?? 0))", scheduler: virtual.scheduler.rawValue,
                    forwarding: "\(DesiredTableMapper.forwardingMethod(configuration.global.network))",
                    loadMonitor: "\(virtual.loadMonitor)", sorryServer: virtual.sorryServer?.description,
                    sorryServerInUse: desired.sorryServersInUse.contains(virtual.name), servers: servers,
                    panic: model.panic.panics[virtual.name].map {
                        StatusReport.Panic(
                            failing: $0.failing, total: $0.total, threshold: $0.threshold, ageSeconds: seconds($0.since))
                    },
                    panics: model.panic.entries[virtual.name] ?? 0))
        }
        self.init(director: director, ipvs: ipvs, virtuals: virtuals)
    }
}
