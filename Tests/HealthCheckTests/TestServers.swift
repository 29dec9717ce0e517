import NIOCore
import NIOPosix
import XCTest

@testable import HealthCheck

/// How a tiny test server treats a connection (TCP) or a datagram (UDP).
enum ServerBehaviour: Sendable {
    /// Answer with `text` (after the client's request when `afterRequest`, else on accept), after `delay`, then
    /// close (TCP).
    case answer(String, afterRequest: Bool = true, delay: Duration = .zero)
    /// Accept and never say anything.
    case silent
    /// Accept and close at once.
    case closeImmediately
}

/// A TCP server on a loopback address that behaves as told, for checks to run against.
struct TCPTestServer {
    let channel: any Channel
    let host: String
    let port: Int

    static func start(host: String = "127.0.0.1", port: Int = 0, behaviour: ServerBehaviour) async throws
        -> TCPTestServer
    {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Room for every connection of a burst: with NIO's default of 128, some of the 150 good connections of
            // SocketProbesTests' burst found the accept queue full, and their handshakes waited for a retransmission
            // (1 s) past the checks' deadline.
            .serverChannelOption(.backlog, value: 1024)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(BehaviourHandler(behaviour: behaviour))
                }
            }
            .bind(host: host, port: port)
            .get()
        return TCPTestServer(channel: channel, host: host, port: channel.localAddress!.port!)
    }

    var endpoint: HealthEndpoint { get throws { try HealthEndpoint(host: host, port: port) } }

    func stop() async throws { try await channel.close() }
}

final class BehaviourHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let behaviour: ServerBehaviour
    private var answered = false

    init(behaviour: ServerBehaviour) { self.behaviour = behaviour }

    func channelActive(context: ChannelHandlerContext) {
        switch behaviour {
        case .answer(_, afterRequest: false, _): answer(context: context)
        case .closeImmediately: context.close(promise: nil)
        default: break
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .answer(_, afterRequest: true, _) = behaviour { answer(context: context) }
    }

    private func answer(context: ChannelHandlerContext) {
        guard !answered, case .answer(let text, _, let delay) = behaviour else { return }
        answered = true
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let send: @Sendable () -> Void = {
            let buffer = bound.value.channel.allocator.buffer(string: text)
            bound.value.writeAndFlush(NIOAny(buffer)).whenComplete { _ in bound.value.close(promise: nil) }
        }
        if delay == .zero {
            send()
        } else {
            context.eventLoop.scheduleTask(in: TimeAmount(delay)) { send() }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// A UDP server on a loopback address: answers every datagram with a fixed text, or says nothing.
struct UDPTestServer {
    let channel: any Channel
    let port: Int

    static func start(host: String = "127.0.0.1", answer: String?) async throws -> UDPTestServer {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramAnswerHandler(answer: answer))
                }
            }
            .bind(host: host, port: 0)
            .get()
        return UDPTestServer(channel: channel, port: channel.localAddress!.port!)
    }

    func stop() async throws { try await channel.close() }
}

final class DatagramAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let answer: String?

    init(answer: String?) { self.answer = answer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let answer else { return }
        let request = unwrapInboundIn(data)
        let reply = AddressedEnvelope(
            remoteAddress: request.remoteAddress, data: context.channel.allocator.buffer(string: answer))
        context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(
    within timeout: Duration, every step: Duration = .milliseconds(10), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: step)
    }
    return try await condition()
}

