import Addressing
import HostSystem
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The small HTTP server of `run --metrics ADDR:PORT`: `GET /metrics` (Prometheus text), `GET /` (the status
/// page), `GET /status.json`. Read-only; one request per connection. Off unless asked for, and on a loopback
/// address only unless `--metrics-allow-remote`.
///
/// Any local user can connect, so it holds no one's connection for long: at most ``ConnectionGate/limit``
/// connections at once (from the ``DescriptorBudget``; more are closed at once), the request within
/// ``readTimeout``, the whole exchange within ``lifetime``. Idle and slow clients cost a few descriptors for a few
/// seconds, never the descriptors of health checks.
public struct StatusHTTPServer: Service {
    /// What the server serves, per path: status code, content type, body.
    public typealias Responder = @Sendable (_ path: String) async -> (HTTPResponseStatus, String, String)

    /// A request (line and headers) must arrive within this long after the connection opens.
    public static let readTimeout = TimeAmount.seconds(3)
    /// A connection is closed this long after it opened, answered or not (a client that does not read).
    public static let lifetime = TimeAmount.seconds(10)

    public let listen: ListenAddress
    public let gate: ConnectionGate
    private let respond: Responder
    private let logger: Logger
    private let group: any EventLoopGroup
    private let bound: (@Sendable (Int) -> Void)?

    /// - Parameters:
    ///   - maximumConnections: connections open at once; more are closed at once.
    ///   - bound: called with the port once listening (for port 0 in tests).
    public init(
        listen: ListenAddress, logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        maximumConnections: Int = 64, bound: (@Sendable (Int) -> Void)? = nil, respond: @escaping Responder
    ) {
        self.listen = listen
        self.respond = respond
        self.logger = logger
        self.group = group
        self.bound = bound
        self.gate = ConnectionGate(
            name: "status page and metrics on \(listen)", limit: maximumConnections, readTimeout: Self.readTimeout,
            lifetime: Self.lifetime, logger: logger)
    }

    typealias Connection = AdmittedConnection<HTTPServerRequestPart, HTTPServerResponsePart>

    public func run() async throws {
        let gate = self.gate
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // A client that half-closes after its request (`nc -N`) still gets its answer.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(host: listen.host, port: listen.port) { channel in
                channel.eventLoop.makeCompletedFuture { () -> Connection? in
                    guard let deadline = gate.admit(channel) else { return nil }
                    // No NIO error handler: serve() answers a request that does not parse, once.
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: false)
                    return Connection(
                        channel: try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                            wrappingChannelSynchronously: channel),
                        readDeadline: deadline)
                }
            }
        let port = server.channel.localAddress?.port ?? listen.port
        logger.info("status page and metrics on http://\(listen.host.contains(":") ? "[\(listen.host)]" : listen.host):\(port)/ (at most \(gate.limit) connections at once)")
        bound?(port)
        let respond = self.respond
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        guard let connection else { continue }
                        group.addTask { await Self.serve(connection, respond: respond) }
                    }
                }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
        }
    }

    private static func serve(_ connection: Connection, respond: Responder) async {
        try? await connection.channel.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            do {
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        head = h
                        connection.readDeadline.cancel()
                    case .body: break
                    case .end:
                        guard let request = head else { return }
                        let answer: (HTTPResponseStatus, String, String)
                        if request.method != .GET && request.method != .HEAD {
                            answer = (.methodNotAllowed, "text/plain; charset=utf-8", "read-only: GET only\n")
                        } else {
                            answer = await respond(String(request.uri.prefix { $0 != "?" }))
                        }
                        try await write(answer, version: request.version, head: request.method == .HEAD, to: outbound)
                        return
                    }
                }
            } catch let error as HTTPParserError {
                // A request that does not parse (HTTP/0.9 among them: no version, no headers) gets one answer,
                // then the close; NIO's own error handler would add a second.
                try await write(
                    (.badRequest, "text/plain; charset=utf-8", "bad request (\(error)): this server speaks HTTP 1.0 and 1.1\n"),
                    version: .http1_1, head: false, to: outbound)
            }
        }
    }

    private static func write(
        _ answer: (HTTPResponseStatus, String, String), version: HTTPVersion, head: Bool,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        let (status, type, body) = answer
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: type)
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Cache-Control", value: "no-store")
        let version = version.major >= 1 ? version : .http1_0
        try await outbound.write(.head(HTTPResponseHead(version: version, status: status, headers: headers)))
        if !head {
            try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body))))
        }
        try await outbound.write(.end(nil))
    }
}

/// `--metrics ADDR:PORT` (`127.0.0.1:9100`, `[::1]:9100`): a numeric address and a port.
public typealias ListenAddress = HostPort

extension HostPort {
    /// Parses `--metrics ADDR:PORT`; refuses a name, and a non-loopback address unless `allowRemote`.
    public static func parse(_ text: String, allowRemote: Bool) throws(ListenAddressError) -> HostPort {
        guard let parsed = HostPort(parsing: text),
            let address = try? SocketAddress(ipAddress: parsed.host, port: parsed.port)
        else { throw .syntax(text) }
        let (host, number) = (parsed.host, parsed.port)
        let loopback: Bool
        switch address {
        case .v4(let v4): loopback = UInt32(bigEndian: v4.address.sin_addr.s_addr) >> 24 == 127
        case .v6: loopback = host == "::1"
        default: loopback = false
        }
        guard loopback || allowRemote else { throw .remote(text) }
        return HostPort(host: host, port: number)
    }
}

/// A `--metrics` value h2e will not use.
public enum ListenAddressError: Error, Sendable, Hashable, CustomStringConvertible {
    case syntax(String)
    case remote(String)

    public var description: String {
        switch self {
        case .syntax(let text): "--metrics \(text): expected ADDRESS:PORT with a numeric address, e.g. 127.0.0.1:9110 or [::1]:9110"
        case .remote(let text):
            "--metrics \(text) is not a loopback address: the status page and metrics have no authentication; "
                + "add --metrics-allow-remote to serve them to the network anyway"
        }
    }
}
