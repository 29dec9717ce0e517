import HealthCheck
import Logging
import NIOPosix
import ServiceLifecycle

/// Runs the health checks of every active real server (one target per real server per virtual server) and hands
/// each up/down transition to the director core. The engine logs each transition (nanny's lines); routine checks
/// log nothing.
///
/// `send_program` checks block a thread on their child until it exits or its timeout kills it, so they run on a
/// pool of their own: a few slow programs cannot hold up the load feedback's fetches or anything else on NIO's
/// shared pool, and `programThreads` slow programs at once still leave TCP and UDP checks untouched (those run on
/// event loops).
public struct HealthService: Service {
    /// Program checks that can block at once before further ones wait (and show as lateness).
    public static let programThreads = 32

    public let engine: HealthCheckEngine<RealServerID>
    private let core: DirectorCore
    private let runtime: RuntimeConfiguration
    private let programPool: NIOThreadPool

    /// - Parameter maximumChecksInFlight: the health checks' share of the descriptors (``DescriptorBudget``).
    public init(
        runtime: RuntimeConfiguration, core: DirectorCore, logger: Logger,
        maximumChecksInFlight: Int = DescriptorBudget.maximumHealthChecks
    ) {
        let programPool = NIOThreadPool(numberOfThreads: Self.programThreads)
        programPool.start()
        self.programPool = programPool
        self.engine = HealthCheckEngine<RealServerID>(
            checker: HealthChecker(threadPool: programPool), logger: logger,
            maximumChecksInFlight: maximumChecksInFlight)
        self.core = core
        self.runtime = runtime
    }

    public func run() async throws {
        defer { programPool.shutdownGracefully { _ in } }
        await engine.setTargets(runtime.healthTargets)
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
