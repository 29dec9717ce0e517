import LVSConfig
import Logging
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// SIGHUP re-reads lvs.cf. A file with errors is logged (`FILE:LINE:COLUMN: message`, one line each) and the
/// running configuration stays; a good one is applied as a diff: the IPVS table by the reconciler, health
/// targets that did not change keep their state, virtual addresses are added or removed on an active director.
/// Heartbeat settings (primary, backup, keepalive, deadtime, port, key) take effect at the next start.
///
/// Safe against a bad file: only a regular file of at most ``LVSConfigParser/maximumFileSize`` bytes is read (a
/// FIFO or device is refused without waiting on it, so later SIGHUPs still work), and a file that declares no
/// virtual server while some are active (an empty, comment-only or truncated lvs.cf) is refused: it would delete
/// every IPVS service. An operator who means it sets `active = 0` on each virtual server. A refusal is logged and
/// shown in `status` (`director.reloadError`) until a reload succeeds.
public struct ReloadService: Service {
    private let core: DirectorCore
    private let health: HealthService
    private let role: RoleService
    private let file: String
    private let prepare: @Sendable (LVSConfiguration, String) -> Result<RuntimeConfiguration, RuntimeConfigurationError>
    private let logger: Logger

    public init(
        file: String, core: DirectorCore, health: HealthService, role: RoleService, logger: Logger,
        prepare: @escaping @Sendable (LVSConfiguration, String) -> Result<RuntimeConfiguration, RuntimeConfigurationError>
    ) {
        self.file = file
        self.core = core
        self.health = health
        self.role = role
        self.prepare = prepare
        self.logger = logger
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            await reload()
        }
    }

    /// Reads and applies the file once. Returns nil when the new configuration runs, else why it was refused (the
    /// running one stays).
    @discardableResult
    public func reload(reason: String = "SIGHUP") async -> String? {
        logger.notice("\(reason): reloading \(file)")
        let file = self.file
        // File I/O off the cooperative pool.
        let result =
            (try? await NIOThreadPool.singleton.runIfActive { LVSConfigParser.parseFile(atPath: file) })
            ?? LVSConfigParser.parseFile(atPath: file)
        for warning in result.warnings { logger.warning("\(warning)") }
        guard let configuration = result.configuration else {
            for error in result.errors { logger.error("\(error)") }
            logger.error("reload of \(file) failed: keeping the running configuration")
            return await core.reloadFailed(result.errors.map(\.description).joined(separator: "\n"))
        }
        let running = await core.runtime.configuration.virtualServers.filter(\.active).count
        if let refusal = Self.refusal(of: configuration, file: file, runningActive: running) {
            logger.error("\(refusal)")
            logger.error("reload of \(file) failed: keeping the running configuration")
            return await core.reloadFailed(refusal)
        }
        switch prepare(configuration, file) {
        case .failure(let error):
            for line in error.problems { logger.error("\(file): \(line)") }
            logger.error("reload of \(file) failed: keeping the running configuration")
            return await core.reloadFailed(error.description)
        case .success(let runtime):
            let old = await core.runtime.configuration.global
            let new = runtime.configuration.global
            if old.primary != new.primary || old.backup != new.backup || old.keepalive != new.keepalive
                || old.deadtime != new.deadtime || old.heartbeatPort != new.heartbeatPort
                || old.heartbeatAuthentication != new.heartbeatAuthentication || old.heartbeat != new.heartbeat
                || old.backupActive != new.backupActive || old.primaryPrivate != new.primaryPrivate
                || old.backupPrivate != new.backupPrivate || old.monitorLinks != new.monitorLinks
            {
                logger.warning("heartbeat settings changed: they take effect when h2e-director restarts")
            }
            let running = await core.runtime
            if running.isFailoverServices != runtime.isFailoverServices {
                logger.error("reload: service = lvs/fos changed: restart h2e-director to switch; keeping the running configuration")
                return await core.reloadFailed("\(file): service changed between lvs and fos: restart h2e-director to switch")
            }
            if old.scaleOut != new.scaleOut || (new.scaleOut && old.announceDevice != new.announceDevice) {
                logger.error("reload: scale_out or announce_device changed: restart h2e-director to switch; keeping the running configuration")
                return await core.reloadFailed(
                    "\(file): scale_out or announce_device changed: restart h2e-director to switch modes (a reload "
                        + "never moves a director between a heartbeat pair and a scale-out group)")
            }
            if running.failoverPlans != runtime.failoverPlans {
                logger.warning("failover blocks changed: they take effect when h2e-director restarts")
            }
            await core.reload(runtime)
            await health.reconfigure(runtime)
            await role.reconfigure(runtime)
            return nil
        }
    }

    /// Why `configuration` must not replace a running one with `runningActive` active virtual servers: it declares
    /// none (nil when it may).
    static func refusal(of configuration: LVSConfiguration, file: String, runningActive: Int) -> String? {
        guard configuration.virtualServers.isEmpty, runningActive > 0 else { return nil }
        return "\(file): reload refused: the file declares no virtual server (empty, only comments, or cut short?), "
            + "which would delete all \(runningActive) running virtual server(s) from IPVS; the running table stays. "
            + "To mean it, set `active = 0` on each virtual server instead of removing them"
    }
}
