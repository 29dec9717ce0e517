import NIOCore
import NIOPosix

/// One round of load readings for the real servers of a virtual service, from its ``LoadSource``: the agent
/// client, the load program, or nothing. All servers are asked concurrently; every server asked gets a reading.
/// Given an ``AgentConnectionPool`` that outlives it, agent fetches reuse its kept-alive connections.
public struct LoadCollector: Sendable {
    /// A real server as the load source needs it.
    public struct Server: Sendable, Hashable {
        public var address: String
        /// Port of its h2e-agent (for ``LoadSource/agent``).
        public var agentPort: Int
        /// The id its agent must report, if known.
        public var serverID: String?

        public init(address: String, agentPort: Int, serverID: String? = nil) {
            self.address = address
            self.agentPort = agentPort
            self.serverID = serverID
        }
    }

    public let source: LoadSource
    private let agent: AgentClient
    private let programConfiguration: LoadProgram.Configuration
    private let group: any EventLoopGroup

    public init(
        source: LoadSource,
        agent: AgentClient.Configuration = .init(),
        program: LoadProgram.Configuration = .init(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        pool: AgentConnectionPool? = nil
    ) {
        self.source = source
        self.agent = AgentClient(group: group, configuration: agent, pool: pool)
        self.programConfiguration = program
        self.group = group
    }

    /// Readings keyed like `servers`; empty for ``LoadSource/none``.
    public func collect<Key: Hashable & Sendable>(_ servers: [Key: Server]) async -> [Key: LoadReading] {
        let futures: [(Key, EventLoopFuture<LoadReading>)]
        switch source {
        case .none:
            return [:]
        case .agent(let figure):
            futures = servers.map { key, server in
                (key, agent.fetchFuture(
                    .init(host: server.address, port: server.agentPort, expectedServer: server.serverID, figure: figure)))
            }
        case .program(let command, let rest):
            let program = LoadProgram(
                command: command, argumentsAfterAddress: rest, group: group, configuration: programConfiguration)
            futures = servers.map { key, server in (key, program.runFuture(address: server.address)) }
        }
        var readings: [Key: LoadReading] = [:]
        for (key, future) in futures {
            readings[key] = (try? await future.get()) ?? .failed(.unreachable("internal error"))
        }
        return readings
    }
}
