import Addressing
import Heartbeat
import HostSystem
import LVSConfig
import Logging
import ScaleOut
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// `h2e-director run`: pulse + lvs + nanny in one process. A ServiceLifecycle service group (SIGTERM/SIGINT stop
/// it gracefully) of, in start order: the reconcile loop, the role (heartbeat and VIP takeover), the health
/// checks, load feedback, SIGHUP reload, the control socket, and optionally the status page and metrics.
public enum DirectorDaemon {
    public struct Options: Sendable {
        public enum Backend: String, Sendable, CaseIterable {
            /// The kernel over generic netlink.
            case netlink
            /// A table in memory: for tests, and to try a configuration on a machine without IPVS.
            case memory
        }

        public var configFile: String
        public var socketPath: String
        public var stateDirectory: String
        public var metrics: ListenAddress?
        public var role: ConfiguredRole?
        public var backend: Backend

        public init(
            configFile: String = LVSConfigParser.defaultPath, socketPath: String = ControlServer.defaultPath,
            stateDirectory: String = "/var/lib/h2e-director", metrics: ListenAddress? = nil,
            role: ConfiguredRole? = nil, backend: Backend = .netlink
        ) {
            self.configFile = configFile
            self.socketPath = socketPath
            self.stateDirectory = stateDirectory
            self.metrics = metrics
            self.role = role
            self.backend = backend
        }
    }

    /// Runs until SIGTERM or SIGINT. Throws ``DirectorStartError`` when it cannot start (nothing is touched then).
    public static func run(_ options: Options, logger: Logger) async throws {
        FreedMemory.keepLargeBlocksApart()
        let result = LVSConfigParser.parseFile(atPath: options.configFile)
        for warning in result.warnings { logger.warning("\(warning)") }
        guard let configuration = result.configuration else {
            throw DirectorStartError.configuration(result.errors.map(\.description))
        }
        let forcedRole = options.role
        let prepare: @Sendable (LVSConfiguration, String) -> Result<RuntimeConfiguration, RuntimeConfigurationError> = {
            RuntimeConfiguration.make($0, file: $1, localAddresses: LocalAddresses.current(), forcedRole: forcedRole)
        }
        let runtime: RuntimeConfiguration
        switch prepare(configuration, options.configFile) {
        case .success(let prepared): runtime = prepared
        case .failure(let error): throw DirectorStartError.configuration(error.description.split(separator: "\n").map(String.init))
        }
        let store = OverrideStore(directory: options.stateDirectory)
        // A damaged overrides.json never stops the start (a backup that does not start loses the pair's
        // failover): the last good copy or none, said loudly.
        let recovery = store.loadForStart()
        for problem in recovery.problems { logger.critical("overrides: \(problem)") }
        let overrides = recovery.overrides
        let kernel: any IPVSKernel = options.backend == .memory ? InMemoryIPVSKernel() : NetlinkIPVSKernel()
        // scale_out: the device BIRD exports is made first, so that a director that cannot announce does not start.
        var announceDevice: AnnounceDevice?
        let announcements = AsyncStream.makeStream(of: [VirtualAddress].self, bufferingPolicy: .bufferingNewest(1))
        if case .scaleOut(let device, _) = runtime.role {
            do {
                announceDevice = try AnnounceDevice(name: device)
            } catch {
                throw DirectorStartError.system("scale_out: \(error)")
            }
        }
        let directorDrained = announceDevice != nil && store.loadDirectorDrained()
        if directorDrained {
            logger.warning("this director was drained by the operator: it announces nothing until `h2e-director director resume`")
        }
        let continuation = announcements.continuation
        var announce: (@Sendable ([VirtualAddress]) -> Void)?
        if announceDevice != nil {
            announce = { @Sendable addresses in _ = continuation.yield(addresses) }
        }
        let core = DirectorCore(
            runtime: runtime, kernel: kernel, backend: options.backend.rawValue, store: store, overrides: overrides,
            overridesProblem: recovery.problems.isEmpty ? nil : recovery.problems.joined(separator: " "),
            directorDrained: directorDrained, announce: announce, logger: logger)
        await core.logUnmatchedOverrides()
        let takeover: any TakeoverSystem
        do {
            // mark_rules is read at the start: a reload that changes it takes effect at the next start.
            takeover = LinuxTakeoverSystem(
                netlink: try RouteNetlink(), markTool: runtime.markTool, ruleDirectory: options.stateDirectory)
        } catch {
            throw DirectorStartError.system("cannot open route netlink for the virtual addresses: \(error)")
        }
        let budget = DescriptorBudget(
            limit: DescriptorBudget.currentLimit(), eventLoopThreads: System.coreCount,
            programThreads: HealthService.programThreads,
            loadFeedbackServers: runtime.configuration.virtualServers.filter { $0.active && $0.loadMonitor != .none }
                .reduce(0) { $0 + $1.realServers.count })
        logger.info("\(budget)")
        let health = HealthService(
            runtime: runtime, core: core, logger: logger, maximumChecksInFlight: budget.healthChecks)
        let role = RoleService(
            runtime: runtime, core: core, system: takeover, logger: logger, announceDevice: announceDevice,
            announcements: announceDevice == nil ? nil : announcements.stream)
        // service = fos runs no IPVS: no reconcile loop and no load feedback, and the failover services follow the role.
        var fos: FosService?
        if runtime.isFailoverServices {
            let services = FosService(plans: runtime.failoverPlans, logger: logger) { await role.servicesFailed($0) }
            await services.cleanUp()
            await role.follow(services)
            fos = services
        }
        let reloader = ReloadService(
            file: options.configFile, core: core, health: health, role: role, logger: logger, prepare: prepare)
        let operations = DirectorOperations(
            core: core, health: health, role: role, failoverServices: fos, reloader: reloader)
        let control = ControlServer(
            path: options.socketPath, operations: operations, logger: logger,
            maximumConnections: budget.controlConnections)
        // The gates' counters for /metrics, set once the HTTP server exists (it serves them).
        let gates = GateList()
        gates.add(control.gate)
        let http = options.metrics.map { listen in
            StatusHTTPServer(listen: listen, logger: logger, maximumConnections: budget.httpConnections) { path in
                await operations.respond(path, gates: gates.all)
            }
        }
        if let http { gates.add(http.gate) }
        var services: [any Service] = fos == nil ? [ReconcileService(core: core, logger: logger)] : []
        services += [role, health]
        if fos == nil { services.append(LoadFeedbackService(core: core, logger: logger)) }
        services += [reloader, control]
        if let http {
            services.append(http)
        }
        // Last, so that it shuts down first: stop_cmd runs before the VIPs are given up and the peer is told.
        if let fos { services.append(fos) }
        let mode: String
        switch runtime.role {
        case .standalone: mode = "standalone"
        case .heartbeat: mode = "with a backup director"
        case .scaleOut(let device, _): mode = "in a scale-out group, announcing on \(device)"
        }
        let active = runtime.configuration.virtualServers.filter(\.active).count
        let what = fos == nil ? "\(active) active virtual servers" : "\(runtime.failoverPlans.count) failover services"
        logger.notice(
            "h2e-director starting: \(options.configFile), \(what), \(mode), IPVS \(fos == nil ? options.backend.rawValue : "unused (service = fos)")")
        // Each service named by its type: by default ServiceLifecycle names it "\(service)", a dump of every stored
        // property, which for the health service is every target (30 MB, kept for the daemon's life, at 30,000
        // real servers: scripts/bench-director-scale).
        let configurations = services.map {
            ServiceGroupConfiguration.ServiceConfiguration(service: $0, serviceName: String(describing: type(of: $0)))
        }
        let group = ServiceGroup(
            configuration: .init(services: configurations, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        logger.notice("h2e-director stopped")
    }
}

/// The listeners' gates, filled once at start-up (the HTTP server's responder reads them, and it exists before its
/// own gate does).
final class GateList: Sendable {
    private let gates = NIOLockedValueBox<[ConnectionGate]>([])
    func add(_ gate: ConnectionGate) { gates.withLockedValue { $0.append(gate) } }
    var all: [ConnectionGate] { gates.withLockedValue { $0 } }
}

/// Why the daemon did not start.
public enum DirectorStartError: Error, Sendable, CustomStringConvertible {
    /// lvs.cf problems, one `FILE:LINE:COLUMN: message` (or `FILE: message`) per line.
    case configuration([String])
    case state(String)
    case system(String)

    public var description: String {
        switch self {
        case .configuration(let lines): lines.joined(separator: "\n")
        case .state(let message): message
        case .system(let message): message
        }
    }
}
