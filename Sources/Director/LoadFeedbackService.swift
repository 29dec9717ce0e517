import LVSConfig
import LoadFeedback
import Logging
import NIOCore
import ServiceLifecycle

/// Every `weight_interval` seconds, reads the load of every real server in the table of each virtual server with a
/// `load_monitor` (`h2e`: `GET http://SERVER:agent_port/load.json` from its h2e-agent; a program path: run it with
/// the server's address) and hands the readings to the director core, which recomputes the weights. All servers
/// are asked at once; a round never takes longer than the sources' own deadlines. Rounds start on a fixed schedule
/// (a slow round does not push the following ones back; a round that overruns the interval is followed at once).
public struct LoadFeedbackService: Service {
    private let core: DirectorCore
    private let logger: Logger

    public init(core: DirectorCore, logger: Logger) {
        self.core = core
        self.logger = logger
    }

    public func run() async throws {
        let clock = ContinuousClock()
        var next = clock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let runtime = await core.runtime
            let interval = Duration.seconds(max(runtime.configuration.global.weightInterval, 1))
            next = max(next + interval, clock.now)
            do {
                try await gracefulSleep(for: clock.now.duration(to: next))
            } catch {
                break
            }
            await round(runtime)
        }
    }

    /// One round over every virtual server with a load source.
    func round(_ runtime: RuntimeConfiguration) async {
        let targets = await core.model.loadTargets()
        let agentPort = Int(runtime.configuration.global.agentPort)
        await withTaskGroup(of: Void.self) { group in
            for (virtual, servers) in targets {
                guard let source = runtime.loadSources[virtual], source != .none else { continue }
                let core = self.core
                group.addTask {
                    let collector = LoadCollector(source: source)
                    var asked: [String: LoadCollector.Server] = [:]
                    for (id, server) in servers {
                        asked[id.server] = LoadCollector.Server(address: server.address.description, agentPort: agentPort)
                    }
                    let readings = await collector.collect(asked)
                    await core.loadRound(virtual: virtual, readings: readings)
                }
            }
        }
    }
}
