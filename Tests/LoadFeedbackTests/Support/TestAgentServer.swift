import NIOCore
import NIOPosix
import Synchronization

/// A tiny HTTP server on 127.0.0.1 standing in for h2e-agent: it reads a request up to the blank line and answers
/// with canned bytes, so tests control everything, malformed framing included. It counts the connections it
/// accepted and those closed since.
final class TestAgentServer: Sendable {
    /// What a keep-alive server does with the requests after the first one on a connection.
    enum Later: Sendable {
        case answer
        /// Close the connection without answering (as an agent whose idle timeout fired as the request came).
        case close
        /// Never answer.
        case ignore
    }

    enum Behaviour: Sendable {
        /// Answer every request with `body` (Content-Length, status line `status`, `headers` added) and keep the
        /// connection open; the requests after the first as `later` says; close the connection after `idleClose`
        /// without a request.
        case keepAlive(
            body: String, status: String = "HTTP/1.1 200 OK", headers: String = "", later: Later = .answer,
            idleClose: TimeAmount? = nil)
        /// Answer these bytes, then close.
        case answer(String)
        /// Answer `head` at once and `rest` after `delay`, then close.
        case answerSlowly(head: String, rest: String, delay: TimeAmount)
        /// Read the request, never answer.
        case silent
    }

    let channel: any Channel
    let port: Int
    private let received = Mutex<[String]>([])
    private let connections = Mutex((accepted: 0, closed: 0))

    /// The requests received so far, as text.
    var requests: [String] { received.withLock { $0 } }
    /// Connections accepted so far.
    var accepted: Int { connections.withLock { $0.accepted } }
    /// Connections closed so far (by either side).
    var closed: Int { connections.withLock { $0.closed } }

    private init(channel: any Channel) {
        self.channel = channel
        self.port = channel.localAddress!.port!
    }

    static func start(_ behaviour: Behaviour) async throws -> TestAgentServer {
        let box = Mutex<TestAgentServer?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                box.withLock { $0?.connections.withLock { $0.accepted += 1 } }
                child.closeFuture.whenComplete { _ in box.withLock { $0?.connections.withLock { $0.closed += 1 } } }
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(
                        CannedAnswerHandler(behaviour: behaviour) { request in
                            box.withLock { $0?.received.withLock { $0.append(request) } }
                        })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = TestAgentServer(channel: channel)
        box.withLock { $0 = server }
        return server
    }

    func stop() async throws {
        try await channel.close()
    }

    /// A JSON answer with status 200 and a Content-Length.
    static func ok(_ body: String, status: String = "200 OK") -> Behaviour {
        .answer(
            "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nX-SERVER: web1\r\n"
                + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
    }

    /// A port on 127.0.0.1 where nothing listens: bound, then closed.
    static func closedPort() async throws -> Int {
        let server = try await start(.silent)
        let port = server.port
        try await server.stop()
        return port
    }
}

private final class CannedAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let behaviour: TestAgentServer.Behaviour
    let record: @Sendable (String) -> Void
    var request = ""
    var answered = false
    var idleTimer: Scheduled<Void>?

    init(behaviour: TestAgentServer.Behaviour, record: @escaping @Sendable (String) -> Void) {
        self.behaviour = behaviour
        self.record = record
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdleClose(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        request += String(buffer: unwrapInboundIn(data))
        if case .keepAlive = behaviour { return keepAlive(context) }
        guard !answered, request.contains("\r\n\r\n") else { return }
        answered = true
        record(request)
        switch behaviour {
        case .answer(let text):
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        case .answerSlowly(let head, let rest, let delay):
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: head)), promise: nil)
            context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: rest))).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            }
        case .silent, .keepAlive:
            break
        }
    }

    private func keepAlive(_ context: ChannelHandlerContext) {
        guard case .keepAlive(let body, let status, let headers, let later, _) = behaviour else { return }
        while let end = request.range(of: "\r\n\r\n") {
            let one = String(request[..<end.upperBound])
            request.removeSubrange(..<end.upperBound)
            record(one)
            idleTimer?.cancel()
            defer { answered = true }
            if answered {
                switch later {
                case .answer: break
                case .close: return context.close(promise: nil)
                case .ignore: continue
                }
            }
            let answer = "\(status)\r\nContent-Type: application/json\r\nX-SERVER: web1\r\n\(headers)"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer)), promise: nil)
            armIdleClose(context)
        }
    }

    private func armIdleClose(_ context: ChannelHandlerContext) {
        guard case .keepAlive(_, _, _, _, let idleClose?) = behaviour else { return }
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: idleClose) { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
