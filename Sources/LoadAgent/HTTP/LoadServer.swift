import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The agent's HTTP server (`h2e-agent serve`): read-only GET/HEAD over the state directory, bounded in request
/// size, header count, connections and idle time. One event loop does the networking; a one-thread pool does the
/// librrd and file work.
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

        public init(
            host: String = "0.0.0.0", port: Int = defaultPort, serverID: String, directory: String,
            maxConnections: Int = 256, requestTimeout: TimeAmount = .seconds(10), maxHeaderCount: Int = 64,
            maxHeaderFieldSize: Int = 8192, maxHeaderListSize: Int = 16384
        ) {
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
    let channel: Channel
    let logger: Logger

    /// The address the server listens on (the actual port when 0 was asked for).
    public var localAddress: SocketAddress? { channel.localAddress }

    private init(configuration: Configuration, group: MultiThreadedEventLoopGroup, threadPool: NIOThreadPool, channel: Channel, logger: Logger) {
        self.configuration = configuration
        self.group = group
        self.threadPool = threadPool
        self.channel = channel
        self.logger = logger
    }

    /// Binds and starts serving.
    public static func start(configuration: Configuration, logger: Logger) async throws -> LoadServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        let loop = group.next()
        let open = NIOLoopBoundBox.makeBoxSendingValue(0, as: Int.self, eventLoop: loop)
        let responder = LoadResponder(store: RRDStore(directory: configuration.directory), serverID: configuration.serverID)
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
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 4)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // One event loop: the counter box is only touched on it.
                    if open.value >= configuration.maxConnections {
                        try channel.pipeline.syncOperations.addHandler(
                            RejectHandler(serverID: configuration.serverID, reason: "too many connections; retry later"))
                        return
                    }
                    open.value += 1
                    channel.closeFuture.whenComplete { _ in open.value -= 1 }
                    let sync = channel.pipeline.syncOperations
                    try sync.configureHTTPServerPipeline(
                        withPipeliningAssistance: true, withErrorHandling: false, withOutboundHeaderValidation: true,
                        withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits)
                    try sync.addHandler(ServerIDHandler(serverID: configuration.serverID))
                    try sync.addHandler(HTTPServerProtocolErrorHandler())
                    try sync.addHandler(
                        LoadHTTPHandler(
                            responder: responder, threadPool: threadPool, requestTimeout: configuration.requestTimeout,
                            maxHeaderCount: configuration.maxHeaderCount))
                    try sync.addHandler(ErrorLogHandler(logger: logger))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
            return LoadServer(configuration: configuration, group: group, threadPool: threadPool, channel: channel, logger: logger)
        } catch {
            try? await threadPool.shutdownGracefully()
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
        try await threadPool.shutdownGracefully()
        try await group.shutdownGracefully()
    }
}
