import HealthCheck
import Heartbeat
import HostSystem
import IPVS
import LVSConfig
import LoadFeedback
import Logging
import NIOCore
import ScaleOut

#if canImport(Glibc)
import Glibc
#endif

/// The executor of ``DirectorState``: hands each event to the state and runs the actions it returns (logs, IPVS
/// calls, saving overrides), feeding each call's outcome back as an event. It decides nothing itself.
///
/// Events from several services may arrive while an IPVS call is in flight (the actor is reentrant at that await):
/// the state takes them at once and runs one more reconcile pass afterwards, so calls never interleave. A method
/// returns once the actions its event started are done; those it left to a pass under way are done by that pass's
/// caller.
public actor DirectorCore {
    public private(set) var state: DirectorState
    private let kernel: any IPVSKernel
    private let store: OverrideStore?
    private let logger: Logger
    private let now: @Sendable () -> NIODeadline
    private let wallClock: @Sendable () -> Double
    /// A burst of work (a large apply, a reload) left freed memory to give back at the next tick.
    private var trimDue = false
    /// `scale_out`: takes each set of addresses to announce (the role service's announce device).
    private let announce: (@Sendable ([VirtualAddress]) -> Void)?

    public init(
        runtime: RuntimeConfiguration, kernel: any IPVSKernel, backend: String = "netlink",
        store: OverrideStore? = nil, overrides: [OverrideKey: DirectorModel.OverrideRecord] = [:],
        overridesProblem: String? = nil, directorDrained: Bool = false,
        announce: (@Sendable ([VirtualAddress]) -> Void)? = nil,
        logger: Logger = Logger(label: "h2e.director"),
        now: @escaping @Sendable () -> NIODeadline = { NIODeadline.now() },
        wallClock: @escaping @Sendable () -> Double = WallClock.seconds
    ) {
        self.state = DirectorState(
            runtime: runtime, overrides: overrides, overridesProblem: overridesProblem, backend: backend,
            directorDrained: directorDrained, now: now())
        self.announce = announce
        self.kernel = kernel
        self.store = store
        self.logger = logger
        self.now = now
        self.wallClock = wallClock
    }

    /// `director drain|resume` (`scale_out`): withdraw every address, or announce again.
    public func drainDirector(_ drain: Bool) async throws(ControlError) -> String {
        try await answer(.directorDrain(drain), unanswered: "director \(drain ? "drain" : "resume") got no answer")
    }

    /// The answer to an operator's request: its message, or the error it was refused with.
    private func answer(_ event: DirectorEvent, unanswered: String) async throws(ControlError) -> String {
        switch await send(event) {
        case .success(let message)?: return message
        case .failure(let error)?: throw error
        case nil: throw .badRequest(unanswered)
        }
    }

    /// Hands `event` to the state and runs what follows from it. Returns the answer to an operator's request.
    @discardableResult
    public func send(_ event: DirectorEvent) async -> Result<String, ControlError>? {
        var reply: Result<String, ControlError>?
        var pending = state.handle(event, now: now())
        while !pending.isEmpty {
            let action = pending.removeFirst()
            guard let outcome = await perform(action, reply: &reply) else { continue }
            // What follows from an outcome comes before what was queued: the pass goes on where it stopped.
            pending = state.handle(outcome, now: now()) + pending
        }
        return reply
    }

    /// Runs one action; returns the event that reports its outcome, if it has one.
    private func perform(_ action: DirectorAction, reply: inout Result<String, ControlError>?) async -> DirectorEvent? {
        switch action {
        case .log(let level, let message):
            logger.log(level: level, "\(message)")
            return nil
        case .reply(let answer):
            reply = answer
            return nil
        case .announce(let addresses):
            announce?(addresses)
            return nil
        case .saveDirectorDrain(let drained):
            do {
                try store?.saveDirectorDrained(drained)
            } catch {
                logger.error("operator: the director's drain is in effect but not saved, a restart forgets it: \(error)")
            }
            return nil
        case .saveOverrides(let overrides, let plan):
            // No suspension between the plan and its outcome: nothing else changes the overrides meanwhile.
            return .overridesSaved(plan, save(overrides))
        case .readKernel:
            return .kernelRead(await readTable())
        case .readConnections:
            return .connectionsRead(await readTable())
        case .apply(let changes):
            if changes.count >= Self.largeApply { trimDue = true }
            do {
                try await kernel.apply(changes)
                return .applied(changes, .success(()))
            } catch let error as IPVSApplyError {
                return .applied(changes, .failure(CallFailure("\(error)", appliedChanges: error.appliedChanges)))
            } catch {
                return .applied(changes, .failure(CallFailure("\(error)")))
            }
        case .setTimeouts(let timeouts):
            return .timeoutsSet(timeouts, await call { try await $0.setTimeouts(timeouts) })
        case .setSyncDaemon(let daemon):
            return .syncDaemonSet(daemon, await call { try await $0.setSyncDaemon(daemon) })
        case .removeServices(let keys):
            do {
                let changes = try await kernel.table().services.filter { keys.contains($0.key) }.map {
                    IPVSChange.deleteService($0.key)
                }
                try await kernel.apply(changes)
                for change in changes { logger.info("ipvs: \(change)") }
            } catch {
                logger.error("ipvs: removing services on shutdown failed: \(error)")
            }
            return nil
        }
    }

    private func readTable() async -> Result<IPVSTable, CallFailure> {
        do {
            return .success(try await kernel.table())
        } catch {
            return .failure(CallFailure("\(error)"))
        }
    }

    private func call(_ body: (any IPVSKernel) async throws -> Void) async -> Result<Void, CallFailure> {
        do {
            try await body(kernel)
            return .success(())
        } catch {
            return .failure(CallFailure("\(error)"))
        }
    }

    private func save(_ overrides: [OverrideKey: DirectorModel.OverrideRecord]) -> Result<String?, CallFailure> {
        guard let store else { return .success(nil) }
        do {
            return .success(try store.save(overrides))
        } catch {
            return .failure(CallFailure("\(error)"))
        }
    }

    // MARK: Inputs, by name

    public func healthChanged(_ id: RealServerID, to health: HealthState) async {
        await send(.health(id, health))
    }

    /// One round of load readings for `virtual`, keyed by server name.
    public func loadRound(virtual: String, readings: [String: LoadReading]) async {
        await send(.loadRound(virtual: virtual, readings: readings))
    }

    /// - Parameter takeover: false for a move that is no failover (see ``DirectorModel/roleChanged(to:reason:now:takeover:)``).
    public func roleChanged(to role: DirectorRole, reason: String, takeover: Bool = true) async {
        await send(.roleChanged(role, reason: reason, takeover: takeover))
    }

    public func roleStopped() async {
        await send(.roleStopped)
    }

    /// A configuration that parsed and prepared without problems (SIGHUP): applied as a diff.
    public func reload(_ runtime: RuntimeConfiguration) async {
        await send(.reloaded(runtime))
        trimDue = true
    }

    /// A reload whose file is broken: the running configuration stays. Returns `message`.
    @discardableResult
    public func reloadFailed(_ message: String) async -> String {
        await send(.reloadFailed(message))
        return message
    }

    /// `server drain|down|up|clear VIRTUAL ADDRESS`: validated against the configuration, saved, then applied.
    public func override(_ action: OverrideAction, virtual: String, address: String) async throws(ControlError)
        -> String
    {
        try await answer(
            .override(action, virtual: virtual, address: address, wallTime: wallClock()),
            unanswered: "the override of \(virtual) \(address) got no answer")
    }

    /// Retries after a failure, re-reads the kernel table now and then (someone may have used ipvsadm), ends graces
    /// and drains.
    public func tick() async {
        await send(.tick)
        if trimDue {
            trimDue = false
            FreedMemory.returnToSystem()
        }
    }

    /// Changes in one apply from which the memory it used is worth giving back (a start-up or a large reload).
    static let largeApply = 1_000

    /// Brings the kernel to the desired table.
    public func reconcile() async {
        await send(.reconcile)
    }

    /// On stop with `hard_shutdown = 1`: removes the services of the configuration from the kernel.
    public func removeServices() async {
        await send(.hardShutdown)
    }

    /// One warning line when saved overrides match no server (at start; a reload logs its own).
    public func logUnmatchedOverrides() {
        if let warning = state.unmatchedOverridesWarning { logger.warning("\(warning)") }
    }

    // MARK: Queries

    public var model: DirectorModel { state.model }
    public var runtime: RuntimeConfiguration { state.runtime }
    public var counters: DirectorState.Counters { state.counters }
    public var unmatchedOverrides: [String] { state.unmatchedOverrides }

    /// The kernel table as this director sees it (for `status`-like tools and tests).
    public func kernelTable() async throws -> IPVSTable {
        try await kernel.table()
    }

    /// The `status` report now, with what the other services know (``DirectorState/report(now:heartbeat:lastChecks:failover:pid:)``).
    public func status(
        heartbeat: HeartbeatStatistics? = nil, lastChecks: [RealServerID: HealthCheckRecord] = [:],
        failover: StatusReport.Failover? = nil, bird: Result<BirdStatus, BirdControlError>? = nil
    ) -> StatusReport {
        state.report(
            now: now(), heartbeat: heartbeat, lastChecks: lastChecks, failover: failover, bird: bird, pid: getpid())
    }
}
