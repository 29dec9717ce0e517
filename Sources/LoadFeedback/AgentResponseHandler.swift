import NIOCore
import NIOHTTP1

/// Sends one `GET` and collects the answer's body, bounded in size, into `answer`.
///
/// The answer promise is completed exactly once by whoever comes first: this handler (body, HTTP status, size,
/// protocol error, early close) or the client's deadline; later completions are ignored by NIO.
final class AgentResponseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let host: String
    private let path: String
    private let limit: Int
    private let answer: EventLoopPromise<ByteBuffer>
    private var body: ByteBuffer?
    private var received = 0
    /// The status of an answer other than 200 OK, whose body is read for its explanation.
    private var status: Int?
    private var done = false

    init(host: String, path: String, limit: Int, answer: EventLoopPromise<ByteBuffer>) {
        self.host = host
        self.path = path
        self.limit = limit
        self.answer = answer
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        headers.add(name: "User-Agent", value: "h2e-director")
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "Connection", value: "close")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if head.status != .ok { status = Int(head.status.code) }
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
        answer.fail(LoadFailure.malformed("the agent closed the connection before the end of its answer"))
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
        if case .success(let answer) = AgentErrorAnswer.decode(body) {
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
        case .success(let body): answer.succeed(body)
        case .failure(let failure): answer.fail(failure)
        }
        context.close(promise: nil)
    }
}
