import AgentWire
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
/// The first round is not a whole interval after the start but as soon as a server with a load source is in the
/// table (looked for every ``firstRoundPoll``): its weight then starts from its capacity
/// (``LoadFeedbackGroup``) before lblc has placed many sites on it at the configured weight.
///
/// Agent fetches keep one HTTP/1.1 connection per agent alive between rounds (``AgentConnectionPool``): a
/// connection not used for ``idleRounds`` intervals, or to a server no longer asked, is closed at the start of a
/// round, and all are closed when the service stops.
public struct LoadFeedbackService: Service {
    /// Intervals a kept-alive connection may stay unused.
    static let idleRounds = 3
    /// How often the table is looked at for the first servers to ask, until the first interval has passed.
    static let firstRoundPoll = Duration.milliseconds(100)

    private let core: DirectorCore
    private let logger: Logger
    let pool: AgentConnectionPool

    public init(core: DirectorCore, logger: Logger) {
        self.core = core
        self.logger = logger
        self.pool = AgentConnectionPool()
    }

    public func run() async throws {
        let clock = ContinuousClock()
        var next = clock.now
        let interval = Duration.seconds(max(await core.runtime.configuration.global.weightInterval, 1))
        // Until the servers' first health checks have put them in the table there is no one to ask.
        while clock.now < next + interval, await core.model.loadTargets().isEmpty {
            do { try await gracefulSleep(for: Self.firstRoundPoll) } catch { break }
        }
        if !Task.isShuttingDownGracefully && !Task.isCancelled {
            next = clock.now
            await round(await core.runtime)
        }
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
        pool.closeAll()
    }

    /// One round over every virtual server with a load source.
    func round(_ runtime: RuntimeConfiguration) async {
        let targets = await core.model.loadTargets()
        let agentPort = Int(runtime.configuration.global.agentPort)
        let interval = TimeAmount.seconds(Int64(max(runtime.configuration.global.weightInterval, 1)))
        var keys: Set<AgentFetchKey> = []
        for (virtual, servers) in targets {
            guard case .agent(let figure) = runtime.loadSources[virtual] else { continue }
            for server in servers.values { keys.insert(AgentFetchKey(server: server, agentPort: agentPort, figure: figure)) }
        }
        pool.prune(keeping: Set(keys.map(\.agent)), idleLimit: interval * Int64(Self.idleRounds))
        // An agent whose server is in several virtual servers (http and https of one farm) is asked once a round,
        // on its one kept connection; each virtual server still waits for its own servers only. Server blocks that
        // expect different ids (`server_id`) of one agent are a misconfiguration: each gets its own verdict.
        let client = AgentClient(pool: pool)
        var fetches: [AgentFetchKey: EventLoopFuture<LoadReading>] = [:]
        for key in keys {
            fetches[key] = client.fetchFuture(
                .init(host: key.agent.host, port: key.agent.port, expectedServer: key.expectedServer, figure: key.figure))
        }
        await withTaskGroup(of: Void.self) { group in
            for (virtual, servers) in targets {
                guard let source = runtime.loadSources[virtual], source != .none else { continue }
                let core = self.core
                group.addTask { [fetches] in
                    var readings: [String: LoadReading] = [:]
                    if case .agent(let figure) = source {
                        for (id, server) in servers {
                            let key = AgentFetchKey(server: server, agentPort: agentPort, figure: figure)
                            readings[id.server] = (try? await fetches[key]?.get()) ?? .failed(.unreachable("internal error"))
                        }
                    } else {
                        var asked: [String: LoadCollector.Server] = [:]
                        for (id, server) in servers {
                            asked[id.server] = LoadCollector.Server(
                                address: server.address.description, agentPort: agentPort, serverID: server.serverID)
                        }
                        readings = await LoadCollector(source: source).collect(asked)
                    }
                    await core.loadRound(virtual: virtual, readings: readings)
                }
            }
        }
    }
}

/// One agent fetch of a round: the agent, the id its answer must carry (the server block's `server_id`) and the
/// figure read from it (two virtual servers following different figures of one agent ask it twice).
struct AgentFetchKey: Hashable, Sendable {
    var agent: AgentConnectionPool.Key
    var expectedServer: String?
    var figure: AgentFigure

    init(server: RealServer, agentPort: Int, figure: AgentFigure) {
        agent = .init(host: server.address.description, port: agentPort)
        expectedServer = server.serverID
        self.figure = figure
    }
}
