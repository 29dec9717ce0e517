import AgentWire
import NIOCore
import NIOHTTP1

/// Sends one `GET` on a connection (new or kept alive) and collects the answer's body, bounded in size, into
/// `outcome`.
///
/// The outcome promise is completed exactly once, by this handler: the body, or the failure (HTTP status, size,
/// protocol error, early close). After a failure the handler closes the connection. After a body it removes
/// itself and leaves the connection open; the outcome says whether it may carry another request (HTTP/1.1, no
/// `Connection: close`, a body delimited by its length, `keepAlive` asked). The client's deadline closes the
/// connection, which ends here as an early close.
final class AgentResponseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    enum Outcome {
        case answer(ByteBuffer, reusable: Bool)
        /// `answered`: part of the answer came (a head); a failure before any is worth one retry on a fresh
        /// connection when this one had been kept alive (the agent closed it meanwhile).
        case failed(LoadFailure, answered: Bool)
    }

    private let host: String
    private let path: String
    private let limit: Int
    private let keepAlive: Bool
    private let outcome: EventLoopPromise<Outcome>
    private var body: ByteBuffer?
    private var received = 0
    /// The status of an answer other than 200 OK, whose body is read for its explanation.
    private var status: Int?
    private var reusable = false
    private var sent = false
    private var done = false

    init(host: String, path: String, limit: Int, keepAlive: Bool, outcome: EventLoopPromise<Outcome>) {
        self.host = host
        self.path = path
        self.limit = limit
        self.keepAlive = keepAlive
        self.outcome = outcome
    }

    /// Added to a connection already open (kept alive, or connected before the exchange started): ask at once.
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { send(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context)
        context.fireChannelActive()
    }

    private func send(_ context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        headers.add(name: "User-Agent", value: "h2e-director")
        headers.add(name: "Accept", value: "application/json")
        // HTTP/1.1 keeps the connection by default.
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if head.status != .ok { status = Int(head.status.code) }
            // A body read to the close, or an HTTP/1.0 answer, or Connection: close: the connection ends here.
            reusable = keepAlive && head.version == .http1_1 && head.isKeepAlive
                && (head.headers.contains(name: "Content-Length") || head.headers.contains(name: "Transfer-Encoding"))
            if let length = head.headers.first(name: "Content-Length").flatMap(Int.init), length > limit {
                return finish(context, .failure(.tooLarge(limit: limit)))
            }
            body = context.channel.allocator.buffer(capacity: 512)
        case .body(var part):
            received += part.readableBytes
            guard received <= limit else { return finish(context, .failure(.tooLarge(limit: limit))) }
            body?.writeBuffer(&part)
        case .end:
            if let status {
                return finish(context, .failure(.httpStatus(status, detail: Self.detail(body ?? ByteBuffer()))))
            }
            finish(context, .success(body ?? ByteBuffer()))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(context, .failure(.malformed("the agent closed the connection before the end of its answer")))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let failure: LoadFailure
        switch error {
        case let error as HTTPParserError:
            failure = .malformed("not HTTP or cut short (\(error))")
        case let error as IOError:
            failure = .unreachable(errnoText(error.errnoCode))
        default:
            failure = .malformed("\(error)")
        }
        finish(context, .failure(failure))
    }

    /// What an error answer says: its JSON `error` field, or its first line; at most 200 characters.
    static func detail(_ body: ByteBuffer) -> String {
        let text: String
        if case .success(let answer) = LoadErrorDocument.decode(body) {
            text = answer.error
        } else {
            text = String(buffer: body).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        }
        return text.count > 200 ? String(text.prefix(200)) + "..." : text
    }

    private func finish(_ context: ChannelHandlerContext, _ result: Result<ByteBuffer, LoadFailure>) {
        guard !done else { return }
        done = true
        switch result {
        case .success(let body):
            if reusable {
                // The next exchange on this connection brings its own handler.
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            }
            outcome.succeed(.answer(body, reusable: reusable))
        case .failure(let failure):
            outcome.succeed(.failed(failure, answered: body != nil))
            context.close(promise: nil)
        }
    }
}
