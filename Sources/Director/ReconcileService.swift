import Logging
import ServiceLifecycle

/// Ticks the reconcile loop every second (a failed netlink call is retried on the next tick; the kernel table is
/// re-read now and then), and on stop removes the configured services when lvs.cf says `hard_shutdown = 1`.
///
/// First in the service group, so it stops last: the other parts are quiet by then.
public struct ReconcileService: Service {
    let core: DirectorCore
    let interval: Duration
    let logger: Logger

    public init(core: DirectorCore, interval: Duration = .seconds(1), logger: Logger) {
        self.core = core
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await core.reconcile()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await gracefulSleep(for: interval)
            } catch {
                break
            }
            await core.tick()
        }
        if await core.runtime.configuration.global.hardShutdown {
            logger.notice("hard_shutdown = 1: removing the configured IPVS services")
            await core.removeServices()
        } else {
            logger.notice("hard_shutdown = 0: leaving the IPVS services in place")
        }
    }
}

/// Sleeps for `duration`, ending early (by throwing) on graceful shutdown or cancellation.
func gracefulSleep(for duration: Duration) async throws {
    try await cancelWhenGracefulShutdown {
        try await Task.sleep(for: duration)
    }
}
