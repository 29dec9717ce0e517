import HealthCheck
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The servers the benchmark checks: a minimal HTTP/1.0 responder on every (127.0.0.x address, port) pair. Each
/// connection gets `HTTP/1.0 200 OK` after its first bytes, then is closed (server side, as nanny's servers did).
/// The first `silent` addresses accept connections and never answer: hung servers, which the checks must time out
/// without holding back the checks of the others.
///
/// Each check asks for `/t/N`, N its target's number, so the servers see each target's checks apart: they count
/// them and measure how far the interval between two checks of one target strays from `interval`, whichever checker
/// makes them. `GET /stats` answers with those figures since the last `/stats` and starts over.
enum BenchServer {
    static func start(
        addresses: Int, ports: Int, basePort: Int, silent: Int = 0, interval: Duration, group: any EventLoopGroup
    ) async throws -> [any Channel] {
        let arrivals = Arrivals(interval: interval)
        var channels: [any Channel] = []
        for address in 1...addresses {
            for port in basePort..<(basePort + ports) {
                let channel = try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .serverChannelOption(.backlog, value: 4_096)
                    .childChannelInitializer { child in
                        child.eventLoop.makeCompletedFuture {
                            if address > silent {
                                try child.pipeline.syncOperations.addHandler(TinyHTTPHandler(arrivals: arrivals))
                            }
                        }
                    }
                    .bind(host: benchAddress(address), port: port)
                    .get()
                channels.append(channel)
                if address > silent {
                    // The same answer to a datagram, for UDP checks.
                    let datagrams = try await DatagramBootstrap(group: group)
                        .channelOption(.socketOption(.so_reuseaddr), value: 1)
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(TinyUDPHandler(arrivals: arrivals))
                            }
                        }
                        .bind(host: benchAddress(address), port: port)
                        .get()
                    channels.append(datagrams)
                }
            }
        }
        return channels
    }
}

/// 127.0.0.1, 127.0.0.2, ... 127.0.1.0, ...: the benchmark's server addresses, numbered from 1; in the /16 that
/// `H2E_BENCH_NETWORK` names (its first two octets, e.g. `10.200`) when the servers run in a network namespace of
/// their own (scripts/bench-healthcheck does that).
func benchAddress(_ index: Int) -> String { "\(benchNetwork).\(index / 256).\(index % 256)" }

let benchNetwork: String = getenv("H2E_BENCH_NETWORK").map { String(cString: $0) } ?? "127.0"

/// Checks seen at the servers: how many, and how far the interval between two checks of the same target strays from
/// the configured one (either way).
final class Arrivals: Sendable {
    private struct State {
        var last: [Int: NIODeadline] = [:]
        var requests = 0
        var deviations = LatencyHistogram()
        var since = NIODeadline.now()
    }

    private let interval: Duration
    private let state = Mutex(State())

    init(interval: Duration) { self.interval = interval }

    func record(target: Int) {
        let now = NIODeadline.now()
        state.withLock { state in
            state.requests += 1
            if let last = state.last[target] {
                let deviation = Duration(now - last) - interval
                state.deviations.record(deviation < .zero ? .zero - deviation : deviation)
            }
            state.last[target] = now
        }
    }

    /// `requests R seconds S deviation-p50 A deviation-p99 B deviation-max C` (milliseconds), then starts over
    /// (each target's last check is kept, so the next interval is measured right).
    func report() -> String {
        state.withLock { state in
            let seconds = Double((NIODeadline.now() - state.since).nanoseconds) / 1e9
            let ms = { (d: Duration) in String(Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15) }
            let line = "requests \(state.requests) seconds \(seconds)"
                + " deviation-p50 \(ms(state.deviations.percentile(0.5))) deviation-p99 \(ms(state.deviations.percentile(0.99)))"
                + " deviation-max \(ms(state.deviations.maximum))\n"
            state.requests = 0
            state.deviations = LatencyHistogram()
            state.since = NIODeadline.now()
            return line
        }
    }
}

/// Answers a datagram `GET /t/N ...` with `HTTP/1.0 200 OK`, counting it as target N's check.
final class TinyUDPHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let arrivals: Arrivals

    init(arrivals: Arrivals) { self.arrivals = arrivals }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        if let line = envelope.data.getString(at: envelope.data.readerIndex, length: min(envelope.data.readableBytes, 64)),
            line.hasPrefix("GET /t/"), let target = Int(line.dropFirst(7).prefix { $0.isNumber })
        {
            arrivals.record(target: target)
        }
        let answer = context.channel.allocator.buffer(string: "HTTP/1.0 200 OK\r\n\r\n")
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: answer)), promise: nil)
    }
}

final class TinyHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private static let answer = Array("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)
    private let arrivals: Arrivals
    private var answered = false

    init(arrivals: Arrivals) { self.arrivals = arrivals }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        answered = true
        let request = unwrapInboundIn(data)
        var answer = Self.answer
        if let line = request.getString(at: request.readerIndex, length: min(request.readableBytes, 64)) {
            if line.hasPrefix("GET /stats ") {
                let body = arrivals.report()
                answer = Array("HTTP/1.0 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
            } else if line.hasPrefix("GET /t/"), let target = Int(line.dropFirst(7).prefix { $0.isNumber }) {
                arrivals.record(target: target)
            }
        }
        let buffer = context.channel.allocator.buffer(bytes: answer)
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { [channel = context.channel] _ in
            channel.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
