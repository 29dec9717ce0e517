import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// The agent's HTTP server (`h2e-agent serve`): read-only GET/HEAD over the state directory, bounded in request
/// size, header count, connections and idle time. One event loop does the networking and answers /load and
/// /load.json from bytes kept ready (``LoadAnswers``), which the live sampler rebuilds once a second on a
/// one-thread pool (a CPU reading into the ``LiveWindow``, the RRD sample when it changed); that pool also answers
/// /rrd, and another draws graphs and reports, at most `maxSlowRequests` at a time (more are
/// refused with 503), so that a flood of year-long graphs cannot delay the directors' load polls. At
/// `maxConnections`, a new connection takes the place of the one that has waited longest without sending a
/// request (``ConnectionTable``): idle sockets cannot lock the directors out.
public final class LoadServer: Sendable {
    public struct Configuration: Sendable {
        /// Default port of `serve` (directors' `agent_port` defaults to it too).
        public static let defaultPort = 8181

        public var host: String
        public var port: Int
        public var serverID: String
        public var directory: String
        public var maxConnections: Int
        public var requestTimeout: TimeAmount
        public var maxHeaderCount: Int
        /// Longest header field, the request line included (bytes).
        public var maxHeaderFieldSize: Int
        public var maxHeaderListSize: Int
        /// Graphs and reports drawn or queued at once (one is drawn at a time; the rest wait their turn).
        public var maxSlowRequests: Int
        /// The cgroup the live figure measures (``CgroupLocator/locate(requested:)``); `nil`: the agent's own, or
        /// the nearest enclosing one with a CPU limit.
        public var cgroup: String?
        /// The /proc directory the live figure reads, and the prefix of the cgroup mount points (tests).
        public var procRoot: String
        public var cgroupFileRoot: String
        /// How often the live sampler reads the CPU counters and rebuilds the answers.
        public var refreshInterval: TimeAmount
        /// The webserver's ports: their established connections are the live figure's requests in flight; empty:
        /// not counted (reading the TCP table costs about 3 µs of CPU per socket, once a second).
        public var servicePorts: Set<UInt16>

        public init(
            host: String = "0.0.0.0", port: Int = defaultPort, serverID: String, directory: String,
            maxConnections: Int = 256, requestTimeout: TimeAmount = .seconds(10), maxHeaderCount: Int = 64,
            maxHeaderFieldSize: Int = 8192, maxHeaderListSize: Int = 16384, maxSlowRequests: Int = 16,
            cgroup: String? = nil, procRoot: String = "/proc", cgroupFileRoot: String = "",
            refreshInterval: TimeAmount = .seconds(1), servicePorts: Set<UInt16> = []
        ) {
            self.servicePorts = servicePorts
            self.maxSlowRequests = maxSlowRequests
            self.cgroup = cgroup
            self.procRoot = procRoot
            self.cgroupFileRoot = cgroupFileRoot
            self.refreshInterval = refreshInterval
            self.host = host
            self.port = port
            self.serverID = serverID
            self.directory = directory
            self.maxConnections = maxConnections
            self.requestTimeout = requestTimeout
            self.maxHeaderCount = maxHeaderCount
            self.maxHeaderFieldSize = maxHeaderFieldSize
            self.maxHeaderListSize = maxHeaderListSize
        }
    }

    public let configuration: Configuration
    let group: MultiThreadedEventLoopGroup
    let threadPool: NIOThreadPool
    let slowPool: NIOThreadPool
    let channel: Channel
    let logger: Logger
    let sampler: RepeatedTask
    /// What the live figure measures.
    public let cpuSource: CPUReader.Source

    /// The address the server listens on (the actual port when 0 was asked for).
    public var localAddress: SocketAddress? { channel.localAddress }

    private init(
        configuration: Configuration, group: MultiThreadedEventLoopGroup, threadPool: NIOThreadPool,
        slowPool: NIOThreadPool, channel: Channel, logger: Logger, sampler: RepeatedTask, cpuSource: CPUReader.Source
    ) {
        self.sampler = sampler
        self.cpuSource = cpuSource
        self.configuration = configuration
        self.group = group
        self.threadPool = threadPool
        self.slowPool = slowPool
        self.channel = channel
        self.logger = logger
    }

    /// Finds what the live figure measures (throws ``AgentError`` for a `cgroup` that cannot be read), builds the
    /// first answers, starts the live sampler, binds and starts serving.
    public static func start(configuration: Configuration, logger: Logger) async throws -> LoadServer {
        let locator = CgroupLocator(procRoot: configuration.procRoot, fileRoot: configuration.cgroupFileRoot)
        let source = try locator.locate(requested: configuration.cgroup).map(CPUReader.Source.cgroup) ?? .host
        let answers = LoadAnswers(
            store: RRDStore(directory: configuration.directory), serverID: configuration.serverID,
            reader: CPUReader(source: source, procRoot: configuration.procRoot, servicePorts: configuration.servicePorts),
            logger: logger)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        let slowPool = NIOThreadPool(numberOfThreads: 1)
        slowPool.start()
        let loop = group.next()
        // The live sampler: the blocking reads on the pool, never on the event loop or the cooperative pool.
        let refresh = { @Sendable in
            threadPool.runIfActive(eventLoop: loop) { answers.refresh(at: .now(), now: Int(time(nil))) }
        }
        try? await refresh().get()
        let sampler = loop.scheduleRepeatedAsyncTask(
            initialDelay: configuration.refreshInterval, delay: configuration.refreshInterval
        ) { _ in refresh() }
        let state = NIOLoopBoundBox.makeBoxSendingValue(
            (ConnectionTable(capacity: configuration.maxConnections), WorkGate(limit: configuration.maxSlowRequests)),
            as: (ConnectionTable, WorkGate).self, eventLoop: loop)
        let responder = LoadResponder(answers: answers)
        let limits = {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = configuration.maxHeaderFieldSize
            limits.maxHeaderListSize = configuration.maxHeaderListSize
            limits.maxHeaderFieldCount = configuration.maxHeaderCount
            return limits
        }()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 4)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // One event loop: the table and the gate are only touched on it.
                    let (connections, slowGate) = state.value
                    guard connections.admit(channel, now: .now()) else {
                        try channel.pipeline.syncOperations.addHandler(
                            RejectHandler(
                                serverID: configuration.serverID,
                                reason: "all \(configuration.maxConnections) connections are busy; retry later"))
                        return
                    }
                    let sync = channel.pipeline.syncOperations
                    try sync.configureHTTPServerPipeline(
                        withPipeliningAssistance: true, withErrorHandling: false, withOutboundHeaderValidation: true,
                        withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits)
                    try sync.addHandler(ServerIDHandler(serverID: configuration.serverID))
                    try sync.addHandler(HTTPServerProtocolErrorHandler())
                    try sync.addHandler(
                        LoadHTTPHandler(
                            responder: responder, threadPool: threadPool, slowPool: slowPool, slowGate: slowGate,
                            connections: connections, requestTimeout: configuration.requestTimeout,
                            maxHeaderCount: configuration.maxHeaderCount))
                    try sync.addHandler(ErrorLogHandler(logger: logger))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
            return LoadServer(
                configuration: configuration, group: group, threadPool: threadPool, slowPool: slowPool, channel: channel,
                logger: logger, sampler: sampler, cpuSource: source)
        } catch {
            sampler.cancel()
            try? await threadPool.shutdownGracefully()
            try? await slowPool.shutdownGracefully()
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Waits until the listening socket closes.
    public func run() async throws {
        try await channel.closeFuture.get()
    }

    /// Stops listening and releases the threads.
    public func shutdown() async throws {
        try? await channel.close()
        sampler.cancel()
        try await threadPool.shutdownGracefully()
        try await slowPool.shutdownGracefully()
        try await group.shutdownGracefully()
    }
}
