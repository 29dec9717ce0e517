import NIOCore
import NIOHTTP1

/// Adds `X-SERVER: <server id>` to every response head that passes, errors included.
final class ServerIDHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let serverID: String

    init(serverID: String) {
        self.serverID = serverID
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .head(var head) = Self.unwrapOutboundIn(data) {
            head.headers.replaceOrAdd(name: "X-SERVER", value: serverID)
            context.write(Self.wrapOutboundOut(.head(head)), promise: promise)
        } else {
            context.write(data, promise: promise)
        }
    }
}
