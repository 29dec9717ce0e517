import NIOCore

/// Answers a connection over the limit with a 503 (carrying X-SERVER) and closes it.
final class RejectHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let serverID: String
    let reason: String

    init(serverID: String, reason: String) {
        self.serverID = serverID
        self.reason = reason
    }

    func channelActive(context: ChannelHandlerContext) {
        let body = "\(reason)\n"
        let text = "HTTP/1.1 503 Service Unavailable\r\nX-SERVER: \(serverID)\r\nContent-Type: text/plain\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        let buffer = context.channel.allocator.buffer(string: text)
        context.writeAndFlush(Self.wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
