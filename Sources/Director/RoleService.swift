import Heartbeat
import Logging
import ScaleOut
import ServiceLifecycle

/// This director's role and the virtual addresses that go with it.
///
/// With a backup director configured it runs the heartbeat (``HeartbeatService``, and ``LinkMonitor`` for
/// `monitor_links`) and follows its role changes: active takes the VIPs over (add, gratuitous ARP / unsolicited NA,
/// `active_cmd`), backup gives them up (`inactive_cmd`). Standalone it is active from the start. On stop it gives
/// the VIPs up (the heartbeat first tells the peer, which takes over at once).
///
/// Both directors program the IPVS table whatever their role, so a takeover only moves addresses (see
/// docs/director.md).
public actor RoleService: Service {
    private let core: DirectorCore
    private let executor: TakeoverExecutor<ContinuousClock>
    private let plan: RuntimeConfiguration.RolePlan
    private let logger: Logger
    private var addresses: [VirtualAddress]
    private var marks: [SiteMarks]?
    private var activeCommand: String?
    private var inactiveCommand: String?
    private var role: DirectorRole?
    private var heartbeat: HeartbeatService?
    private var lastTakeover: Task<TakeoverReport, Never>?
    private var failoverServices: FosService?
    /// `scale_out`: the device the announced addresses go on, and the sets of addresses to announce (from the core).
    private let announceDevice: AnnounceDevice?
    private let announcements: AsyncStream<[VirtualAddress]>?
    /// The newest set to announce, and its number (a retry after a failure gives way to a newer set).
    private var wanted: [VirtualAddress] = []
    private var wantedGeneration = 0
    private var announceFailures = 0

    /// `scale_out`: how long a stopping director serves on after withdrawing (a BGP update reaches the routers
    /// within it: 0.2-1.2 s measured in scripts/bench-scaleout).
    static let withdrawalGrace: Duration = .seconds(2)

    /// - Parameters:
    ///   - announceDevice: with `scale_out`, the device for the addresses, and `announcements` the sets to put on
    ///     it (``DirectorAction/announce(_:)``).
    public init(
        runtime: RuntimeConfiguration, core: DirectorCore, system: any TakeoverSystem, logger: Logger,
        announceDevice: AnnounceDevice? = nil, announcements: AsyncStream<[VirtualAddress]>? = nil
    ) {
        self.announceDevice = announceDevice
        self.announcements = announcements
        self.core = core
        self.executor = TakeoverExecutor(
            system: system, clock: ContinuousClock(), announceRate: runtime.configuration.global.announceRate)
        self.plan = runtime.role
        self.logger = logger
        self.addresses = runtime.virtualAddresses
        self.marks = runtime.siteMarks
        self.activeCommand = runtime.configuration.global.activeCommand
        self.inactiveCommand = runtime.configuration.global.inactiveCommand
    }

    public func run() async throws {
        switch plan {
        case .standalone:
            await change(to: .active, why: "standalone: no backup director configured")
            try? await gracefulSleep(for: .seconds(1_000_000_000))
            await change(to: .backup, why: "shutting down")
        case .scaleOut:
            await change(to: .active, why: "scale_out: every director of the group is active")
            if let announceDevice, let announcements {
                await cancelWhenGracefulShutdown {
                    for await addresses in announcements { await self.announce(addresses) }
                }
                // Withdrawn before the VIPs and the IPVS table go (hard_shutdown), and served on for a moment:
                // until the routers have the BGP update, they still send this director new connections and the
                // packets of open ones, which then move to the other directors (mh + sloppy_tcp).
                let failures = await announceDevice.announce([])
                for failure in failures { logger.error("withdrawing on stop: \(failure)") }
                logger.notice("withdrew every address; serving \(Self.withdrawalGrace) more for the routers to move the flows")
                try? await Task.sleep(for: Self.withdrawalGrace)
                await announceDevice.close()
                logger.notice("removed \(announceDevice.name) and the VIPs")
            } else {
                try? await gracefulSleep(for: .seconds(1_000_000_000))
            }
            await change(to: .backup, why: "shutting down")
        case .heartbeat(let configuration, let devices):
            let service = try HeartbeatService(configuration: configuration, logger: logger)
            heartbeat = service
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await cancelWhenGracefulShutdown { try await service.run() }
                }
                if !devices.isEmpty {
                    let monitor = LinkMonitor(devices: devices, netlink: try RouteNetlink())
                    group.addTask {
                        await cancelWhenGracefulShutdown { await monitor.run(reportingTo: service) }
                    }
                }
                for await change in service.roleChanges {
                    await self.change(to: change.role, why: change.reason.description)
                }
                try await group.waitForAll()
            }
        }
        _ = await lastTakeover?.value
        await core.roleStopped()
    }

    private func change(to newRole: DirectorRole, why: String) async {
        // Already active (the peer of a healed split brain stepped down): announce the addresses again, no role change.
        if newRole == .active, role == .active {
            await begin(TakeoverStep.becomeActive(addresses: addresses, command: nil), what: "announcing again (\(why))")
            return
        }
        // Becoming active without ever having heard the peer (a director starting alone) is no failover.
        let heardPeer = await heartbeat?.statistics.sinceHeard != nil
        let takeover = newRole == .backup || heardPeer
        role = newRole
        // The addresses move first: the takeover starts before the core reconciles, so a slow IPVS table (a whole
        // read when the resync is due, sync-daemon calls) never delays a failover.
        let steps =
            newRole == .active
            ? TakeoverStep.becomeActive(addresses: addresses, marks: marks, command: activeCommand)
            : TakeoverStep.becomeBackup(addresses: addresses, marks: marks != nil, command: inactiveCommand)
        await begin(steps, what: newRole == .active ? "taking over" : "giving up")
        await core.roleChanged(to: newRole, reason: why, takeover: takeover)
        await failoverServices?.roleChanged(active: newRole == .active)
    }

    /// `scale_out`: puts `addresses` on the announce device; what failed is logged and tried again a second later,
    /// unless a newer set came meanwhile.
    private func announce(_ addresses: [VirtualAddress]) async {
        wanted = addresses
        wantedGeneration += 1
        await putWanted()
    }

    private func putWanted() async {
        guard let announceDevice else { return }
        let generation = wantedGeneration
        let failures = await announceDevice.announce(wanted)
        guard !failures.isEmpty else { return }
        announceFailures += 1
        // One line per failed attempt: at most one a second, however long it lasts.
        logger.error("announce device \(announceDevice.name): \(failures.joined(separator: "; ")); retrying in 1 s")
        Task {
            try? await Task.sleep(for: .seconds(1))
            await self.retry(generation)
        }
    }

    private func retry(_ generation: Int) async {
        guard generation == wantedGeneration else { return }
        await putWanted()
    }

    /// The heartbeat's counters and peer state; nil when standalone (or before the heartbeat runs).
    public func heartbeatStatistics() async -> HeartbeatStatistics? {
        await heartbeat?.statistics
    }

    /// `service = fos`: the failover services follow this director's role (started on active, stopped on backup).
    public func follow(_ services: FosService) {
        failoverServices = services
    }

    /// `service = fos`: whether this director's failover services failed; the heartbeat announces it unfit, so a
    /// fit peer takes over (standalone: nothing to tell).
    public func servicesFailed(_ failed: Bool) async {
        await heartbeat?.servicesChanged(failed: failed)
    }

    private func begin(_ steps: [TakeoverStep], what: String) async {
        guard !steps.isEmpty else { return }
        let task = await executor.begin(steps)
        lastTakeover = task
        let logger = self.logger
        Task {
            let report = await task.value
            for failure in report.failures { logger.error("\(what): \(failure)") }
            if report.succeeded && !report.cancelled { logger.info("\(what): done (\(steps.count) steps)") }
        }
    }

    /// A reload changed the virtual or site addresses: an active director gives the dropped ones up, replaces
    /// the site marks when they changed, and takes the new ones over (only the difference: an unchanged address is
    /// neither removed nor announced again); commands are not run again.
    public func reconfigure(_ runtime: RuntimeConfiguration) async {
        let new = runtime.virtualAddresses
        let newSet = Set(new)
        let oldSet = Set(addresses)
        let added = new.filter { !oldSet.contains($0) }
        let removed = addresses.filter { !newSet.contains($0) }
        let oldMarks = marks
        addresses = new
        marks = runtime.siteMarks
        activeCommand = runtime.configuration.global.activeCommand
        inactiveCommand = runtime.configuration.global.inactiveCommand
        guard role == .active else { return }
        // New marks before new addresses, dropped addresses before their marks: a site address is never held
        // unmarked. Sites dropped altogether (marks now nil) take h2e's rules away.
        let markSteps: [TakeoverStep] = oldMarks == marks ? [] : [.installMarks(marks ?? [])]
        let steps =
            removed.map { TakeoverStep.removeAddress($0) } + markSteps
            + TakeoverStep.becomeActive(addresses: added, command: nil)
        await begin(steps, what: "reload")
    }
}
