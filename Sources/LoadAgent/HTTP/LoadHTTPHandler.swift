import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Serves one connection: routes each request, answers it from the thread pool, and closes the connection when the
/// client is slow or idle (a deadline is armed whenever the server waits on the client).
final class LoadHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let responder: LoadResponder
    let threadPool: NIOThreadPool
    /// How long a client may take to send a whole request, or stay idle between requests.
    let requestTimeout: TimeAmount
    let maxHeaderCount: Int

    private var request: (head: HTTPRequestHead, route: Result<Route, Route.Failure>)?
    private var waiting: (head: HTTPRequestHead, route: Result<Route, Route.Failure>)?
    private var bodyBytes = 0
    private var deadline: Scheduled<Void>?

    init(responder: LoadResponder, threadPool: NIOThreadPool, requestTimeout: TimeAmount, maxHeaderCount: Int) {
        self.responder = responder
        self.threadPool = threadPool
        self.requestTimeout = requestTimeout
        self.maxHeaderCount = maxHeaderCount
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            bodyBytes = 0
            let route: Result<Route, Route.Failure>
            if head.headers.count > maxHeaderCount {
                route = .failure(Route.Failure(431, "too many header fields"))
            } else {
                route = Route.parse(method: head.method.rawValue, uri: head.uri)
            }
            request = (head, route)
        case .body(let buffer):
            // GET and HEAD carry no body; a client sending one gets no more than the deadline to finish it.
            bodyBytes += buffer.readableBytes
            if bodyBytes > 65536 { context.close(promise: nil) }
        case .end:
            guard let request else { return }
            self.request = nil
            // A client that does not read its answers gets no new one until the last has drained (the deadline
            // stays armed meanwhile), so a slow reader cannot pile up responses in memory.
            guard context.channel.isWritable else {
                waiting = request
                return
            }
            deadline?.cancel()
            deadline = nil
            respond(context: context, head: request.head, route: request.route)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let request = waiting {
            waiting = nil
            deadline?.cancel()
            deadline = nil
            respond(context: context, head: request.head, route: request.route)
        }
        context.fireChannelWritabilityChanged()
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, route: Result<Route, Route.Failure>) {
        switch route {
        case .failure(let failure):
            let response = LoadResponder.Response(status: failure.status, text: "\(failure.reason)\n")
            write(context: context, request: head, response: response, allow: failure.status == 405)
        case .success(let route):
            let responder = self.responder
            let now = Int(time(nil))
            threadPool.runIfActive(eventLoop: context.eventLoop) {
                responder.respond(to: route, now: now)
            }.assumeIsolated().whenComplete { result in
                switch result {
                case .success(let response):
                    self.write(context: context, request: head, response: response, allow: false)
                case .failure(let error):
                    self.write(
                        context: context, request: head,
                        response: .init(status: 503, text: "server shutting down: \(error)\n"), allow: false)
                }
            }
        }
    }

    private func write(context: ChannelHandlerContext, request: HTTPRequestHead, response: LoadResponder.Response, allow: Bool) {
        guard context.channel.isActive else { return }
        let keepAlive = request.isKeepAlive && response.status < 500
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Cache-Control", value: "no-store")
        if allow { headers.add(name: "Allow", value: "GET, HEAD") }
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let status = HTTPResponseStatus(statusCode: response.status)
        context.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD, !response.body.isEmpty {
            var buffer = context.channel.allocator.buffer(capacity: response.body.count)
            buffer.writeBytes(response.body)
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil)), promise: done)
        if keepAlive {
            // Wait for the next request (or for a slow reader to take this answer) no longer than the deadline.
            arm(context: context)
        } else {
            done.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    private func arm(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: requestTimeout) {
            context.close(promise: nil)
        }
    }
}
