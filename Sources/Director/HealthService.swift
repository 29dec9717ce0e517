import HealthCheck
import Logging
import ServiceLifecycle

/// Runs the health checks of every active real server (one target per real server per virtual server) and hands
/// each up/down transition to the director core. The engine logs each transition (nanny's lines); routine checks
/// log nothing.
public struct HealthService: Service {
    public let engine: HealthCheckEngine<RealServerID>
    private let core: DirectorCore
    private let initialTargets: [RealServerID: HealthTarget]

    public init(runtime: RuntimeConfiguration, core: DirectorCore, logger: Logger) {
        self.engine = HealthCheckEngine<RealServerID>(logger: logger)
        self.core = core
        self.initialTargets = runtime.healthTargets
    }

    public func run() async throws {
        await engine.setTargets(initialTargets)
        let engine = self.engine
        let core = self.core
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await cancelWhenGracefulShutdown { await engine.run() }
            }
            for await transition in engine.transitions {
                switch transition.change {
                case .up: await core.healthChanged(transition.target, to: .up)
                case .down(let failure): await core.healthChanged(transition.target, to: .down(failure))
                }
            }
        }
    }

    /// A reload: unchanged targets keep their state and schedule.
    public func reconfigure(_ runtime: RuntimeConfiguration) async {
        await engine.setTargets(runtime.healthTargets)
    }
}
