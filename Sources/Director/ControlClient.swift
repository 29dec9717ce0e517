#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import NIOPosix

/// Sends one request to a running daemon's control socket and returns its answer.
public struct ControlClient: Sendable {
    public let path: String
    public var timeout: TimeAmount

    public init(path: String = ControlServer.defaultPath, timeout: TimeAmount = .seconds(10)) {
        self.path = path
        self.timeout = timeout
    }

    public func send(_ request: ControlRequest) async throws(ControlError) -> ControlResponse {
        let path = self.path
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .connect(unixDomainSocketPath: path) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            let bytes = Array(try JSONEncoder().encode(request)) + [0x0A]
            // A daemon that accepts but never answers must not hang the client: close the connection at the deadline.
            let underlying = channel.channel
            let deadline = underlying.eventLoop.scheduleTask(in: timeout) { underlying.close(promise: nil) }
            let answer = try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(bytes: bytes))
                var answer = ByteBuffer()
                for try await var chunk in inbound { answer.writeBuffer(&chunk) }
                return answer
            }
            deadline.cancel()
            guard answer.readableBytes > 0 else {
                throw ControlError.unreachable(path: path, "no answer within \(timeout.nanoseconds / 1_000_000_000) s")
            }
            return try JSONDecoder().decode(ControlResponse.self, from: Data(answer.readableBytesView))
        } catch let error as ControlError {
            throw error
        } catch {
            throw .unreachable(path: path, "\(error)")
        }
    }
}
