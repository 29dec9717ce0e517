import HealthCheck
import Logging
import NIOPosix
import ServiceLifecycle

/// `service = fos`: runs ``FailoverServiceMachine`` for the active failover blocks and performs its actions: the
/// commands (``FailoverCommandRunner``, on a thread pool of its own), the local checks (``HealthChecker``), and the
/// heartbeat's fit flag (`reportFailed`). ``RoleService`` hands it every role change; the VIPs follow the role there.
///
/// On graceful shutdown it stops every running service (`stop_cmd`) before the role service gives the VIPs up and
/// tells the peer (the service group shuts down in reverse order, and this one comes after the role).
public actor FosService: Service {
    typealias Machine = FailoverServiceMachine<ContinuousClock.Instant>

    /// Time a `start_cmd` or `stop_cmd` may take before its process group is killed.
    public static let defaultCommandTimeLimit: Duration = .seconds(30)

    private struct Record {
        var lastCheck: HealthCheckResult?
        var lastCheckAt: ContinuousClock.Instant?
        var checks = 0
        var checkFailures = 0
        var commands: [Machine.Command: CommandRecord] = [:]
    }

    private struct CommandRecord {
        var runs = 0
        var failures = 0
        var last: FailoverCommandResult?
        var lastAt: ContinuousClock.Instant?
    }

    private var machine: Machine
    private let plans: [String: FailoverPlan]
    private let order: [String]
    private let commandTimeLimit: Duration
    private let reportFailed: @Sendable (Bool) async -> Void
    private let logger: Logger
    private let pool: NIOThreadPool
    private let checker: HealthChecker
    private var records: [String: Record] = [:]
    private var timer: Task<Void, Never>?
    private var stopped: CheckedContinuation<Void, Never>?

    /// - Parameter reportFailed: tells the heartbeat whether this director's services failed.
    public init(
        plans: [FailoverPlan], commandTimeLimit: Duration = FosService.defaultCommandTimeLimit,
        holdDown: Duration = .seconds(30), maximumHoldDown: Duration = .seconds(240), retryDelay: Duration = .seconds(5),
        logger: Logger, reportFailed: @escaping @Sendable (Bool) async -> Void
    ) {
        machine = Machine(
            configuration: .init(
                services: plans.map(\.name),
                interval: Dictionary(uniqueKeysWithValues: plans.map { ($0.name, $0.interval) }), holdDown: holdDown,
                maximumHoldDown: maximumHoldDown, retryDelay: retryDelay))
        self.plans = Dictionary(uniqueKeysWithValues: plans.map { ($0.name, $0) })
        order = plans.map(\.name)
        self.commandTimeLimit = commandTimeLimit
        self.reportFailed = reportFailed
        self.logger = logger
        // Commands and send_program checks block a thread each until they exit or are killed.
        pool = NIOThreadPool(numberOfThreads: max(4, 2 * plans.count + 2))
        pool.start()
        checker = HealthChecker(threadPool: pool)
    }

    public func run() async throws {
        try? await gracefulSleep(for: .seconds(1_000_000_000))
        logger.notice("failover services: stopping for shutdown")
        await perform(machine.stop(now: .now))
        if !machine.allStopped {
            await withCheckedContinuation { stopped = $0 }
        }
        timer?.cancel()
        try? await pool.shutdownGracefully()
        logger.notice("failover services: stopped")
    }

    /// At start, before the role service runs: stops whatever a killed run left behind (see
    /// ``FailoverServiceMachine/cleanUp(now:)``).
    public func cleanUp() async {
        logger.notice("failover services: running every stop_cmd once, for services an earlier run left behind")
        await perform(machine.cleanUp(now: .now))
    }

    /// The director's role changed (``RoleService``).
    public func roleChanged(active: Bool) async {
        await perform(machine.roleChanged(active: active, now: .now))
    }

    private func perform(_ actions: [Machine.Action]) async {
        for action in actions {
            switch action {
            case .run(let command, let service):
                begin(command, service: service)
            case .check(let service):
                guard let plan = plans[service] else { continue }
                let checker = checker
                Task {
                    let result = await checker.run(plan.check, against: plan.endpoint, timeout: plan.interval)
                    await self.checked(service, result)
                }
            case .setServicesFailed(let failed):
                if failed {
                    logger.error("failover services failed: stopping them and giving them up to the peer")
                } else {
                    logger.notice("failover services: no longer failed")
                }
                await reportFailed(failed)
            case .scheduleTimer(let at):
                timer?.cancel()
                timer = Task {
                    guard (try? await ContinuousClock().sleep(until: at)) != nil else { return }
                    await self.timerFired()
                }
            }
        }
        if machine.allStopped, let stopped {
            self.stopped = nil
            stopped.resume()
        }
    }

    private func begin(_ command: Machine.Command, service: String) {
        let line = plans[service]?.command(command)
        let limit = commandTimeLimit
        let pool = pool
        logger.notice(
            "failover \(service): \(command == .start ? "starting" : "stopping")",
            metadata: ["command": "\(line ?? "none (no \(command)_cmd)")"])
        Task {
            let result: FailoverCommandResult
            if let line {
                result =
                    (try? await pool.runIfActive { FailoverCommandRunner.run(line, timeLimit: limit) })
                    ?? FailoverCommandResult(failure: "not run: the daemon is shutting down")
            } else {
                result = FailoverCommandResult(failure: nil)
            }
            await self.finished(service, command, line: line, result)
        }
    }

    private func finished(_ service: String, _ command: Machine.Command, line: String?, _ result: FailoverCommandResult) async {
        var record = records[service, default: Record()].commands[command, default: CommandRecord()]
        if line != nil {
            record.runs += 1
            record.last = result
            record.lastAt = .now
            let output = result.output.isEmpty ? "" : " output: \(result.output.prefix(1_000))"
            if let failure = result.failure {
                record.failures += 1
                logger.error("failover \(service): \(command)_cmd failed: \(failure)\(output)")
            } else {
                logger.notice("failover \(service): \(command)_cmd done in \(result.duration)\(output)")
            }
        }
        records[service, default: Record()].commands[command] = record
        await perform(machine.commandFinished(service, command, succeeded: result.succeeded, now: .now))
    }

    private func checked(_ service: String, _ result: HealthCheckResult) async {
        var record = records[service, default: Record()]
        let before = record.lastCheck
        record.checks += 1
        record.lastCheck = result
        record.lastCheckAt = .now
        var failed = false
        switch result {
        case .failed(let failure):
            failed = true
            record.checkFailures += 1
            logger.error("failover \(service): check failed: \(failure)")
        case .inconclusive(let error):
            // A local error (out of descriptors, buffers) says nothing of the service: it keeps running.
            if case .inconclusive? = before {} else { logger.warning("failover \(service): check not made: \(error)") }
        case .passed:
            if before != .passed { logger.notice("failover \(service): check passed") }
        }
        records[service] = record
        await perform(machine.checkFinished(service, passed: !failed, now: .now))
    }

    private func timerFired() async {
        await perform(machine.timerFired(now: .now))
    }

    /// The `failover` part of the status report.
    public func status() -> StatusReport.Failover {
        let now = ContinuousClock.now
        let seconds = { (from: ContinuousClock.Instant) -> Double in
            let c = from.duration(to: now).components
            return Double(c.seconds) + Double(c.attoseconds) / 1e18
        }
        var services: [StatusReport.FailoverService] = []
        for name in order {
            guard let plan = plans[name] else { continue }
            let record = records[name] ?? Record()
            let state: String
            var runsHere = false
            switch machine.phases[name] ?? .stopped {
            case .stopped: state = "stopped"
            case .starting: state = "starting"
            case .running:
                state = "running"
                runsHere = true
            case .stopping: state = "stopping"
            case .waitingToRetry: state = "waiting to retry"
            }
            let command = { (kind: Machine.Command) -> StatusReport.Command in
                let r = record.commands[kind] ?? CommandRecord()
                return StatusReport.Command(
                    command: plan.command(kind), runs: r.runs, failures: r.failures,
                    lastResult: r.last.map { $0.failure ?? "ok" }, lastAgeSeconds: r.lastAt.map(seconds),
                    lastDurationSeconds: r.last.map {
                        Double($0.duration.components.seconds) + Double($0.duration.components.attoseconds) / 1e18
                    },
                    lastOutput: r.last.map(\.output))
            }
            var lastCheck: String?
            switch record.lastCheck {
            case .passed?: lastCheck = "passed"
            case .failed(let failure)?: lastCheck = "failed: \(failure)"
            case .inconclusive(let error)?: lastCheck = "not made: \(error)"
            case nil: break
            }
            services.append(
                StatusReport.FailoverService(
                    name: name, address: "\(plan.address)", port: plan.endpoint.port, state: state, runsHere: runsHere,
                    check: "\(plan.check)", lastCheck: lastCheck, lastCheckAgeSeconds: record.lastCheckAt.map(seconds),
                    checks: record.checks, checkFailures: record.checkFailures, start: command(.start),
                    stop: command(.stop)))
        }
        return StatusReport.Failover(
            failed: machine.failed,
            holdDownLeftSeconds: machine.failed && !machine.active
                ? machine.failedUntil.map { max(0, -seconds($0)) } : nil,
            consecutiveFailures: machine.consecutiveFailures, failures: machine.failures, services: services)
    }
}
