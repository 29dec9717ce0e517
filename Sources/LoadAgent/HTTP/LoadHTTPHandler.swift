import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Serves one connection: routes each request, answers `/load` and `/load.json` at once from the bytes kept ready
/// (``LoadAnswers``), every other request from a thread pool (graphs and reports on a pool of their own, bounded by
/// ``WorkGate``), and closes the connection when the client is slow or idle (a deadline is armed
/// whenever the server waits on the client). It tells the ``ConnectionTable`` when the connection waits for a
/// request (evictable) and when it is busy with one.
final class LoadHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let responder: LoadResponder
    /// Quick answers: /rrd, the index.
    let threadPool: NIOThreadPool
    /// Graphs and reports.
    let slowPool: NIOThreadPool
    let slowGate: WorkGate
    let connections: ConnectionTable
    /// How long a client may take to send a whole request, or stay idle between requests.
    let requestTimeout: TimeAmount
    let maxHeaderCount: Int

    /// How long a refused graph or report waits for its 503.
    static let refusalPause: TimeAmount = .seconds(1)

    private var request: (head: HTTPRequestHead, route: Result<Route, Route.Failure>)?
    private var waiting: (head: HTTPRequestHead, route: Result<Route, Route.Failure>)?
    private var bodyBytes = 0
    private var deadline: Scheduled<Void>?

    init(
        responder: LoadResponder, threadPool: NIOThreadPool, slowPool: NIOThreadPool, slowGate: WorkGate,
        connections: ConnectionTable, requestTimeout: TimeAmount, maxHeaderCount: Int
    ) {
        self.responder = responder
        self.threadPool = threadPool
        self.slowPool = slowPool
        self.slowGate = slowGate
        self.connections = connections
        self.requestTimeout = requestTimeout
        self.maxHeaderCount = maxHeaderCount
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connections.remove(context.channel)
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            connections.busy(context.channel)
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
            if let ready = responder.cached(route) {
                write(context: context, request: head, response: ready, allow: false)
                return
            }
            let slow = route.isSlow
            if slow, !slowGate.enter() {
                // Refused after a pause: a client retrying at once would otherwise turn each refusal into another
                // request, thousands a second, and that load would land on the event loop the load polls share.
                let response = LoadResponder.Response(
                    status: 503, text: "busy: \(slowGate.limit) graphs or reports are being drawn; retry later\n")
                context.eventLoop.assumeIsolated().scheduleTask(in: Self.refusalPause) {
                    self.write(context: context, request: head, response: response, allow: false)
                }
                return
            }
            let responder = self.responder
            let now = Int(time(nil))
            (slow ? slowPool : threadPool).runIfActive(eventLoop: context.eventLoop) {
                responder.respond(to: route, now: now)
            }.assumeIsolated().whenComplete { result in
                if slow { self.slowGate.leave() }
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
            connections.waiting(context.channel, now: .now())
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
