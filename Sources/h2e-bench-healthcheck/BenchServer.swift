import NIOCore
import NIOPosix

/// The servers the benchmark checks: a minimal HTTP/1.0 responder on every (127.0.0.x address, port) pair. Each
/// connection gets `HTTP/1.0 200 OK` after its first bytes, then is closed (server side, as nanny's servers did).
/// The first `silent` addresses accept connections and never answer: hung servers, which the checks must time out
/// without holding back the checks of the others.
enum BenchServer {
    static func start(
        addresses: Int, ports: Int, basePort: Int, silent: Int = 0, group: any EventLoopGroup
    ) async throws -> [any Channel] {
        var channels: [any Channel] = []
        for address in 1...addresses {
            for port in basePort..<(basePort + ports) {
                let channel = try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .serverChannelOption(.backlog, value: 4_096)
                    .childChannelInitializer { child in
                        child.eventLoop.makeCompletedFuture {
                            if address > silent { try child.pipeline.syncOperations.addHandler(TinyHTTPHandler()) }
                        }
                    }
                    .bind(host: benchAddress(address), port: port)
                    .get()
                channels.append(channel)
            }
        }
        return channels
    }
}

/// 127.0.0.1, 127.0.0.2, ... 127.0.1.0, ...: the benchmark's loopback addresses, numbered from 1.
func benchAddress(_ index: Int) -> String { "127.0.\(index / 256).\(index % 256)" }

final class TinyHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private static let answer = Array("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)
    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        answered = true
        let buffer = context.channel.allocator.buffer(bytes: Self.answer)
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { [channel = context.channel] _ in
            channel.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
