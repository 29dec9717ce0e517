import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The TCP side of a check: on connect, writes `send`, then reads the answer (at most `readLimit` bytes) until the
/// matcher gives a verdict, and completes `promise` exactly once. Every way out (answer, mismatch, close, error)
/// completes the promise; the caller closes the channel and enforces the overall timeout.
final class SendExpectHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let send: [UInt8]
    private let matcher: AnswerMatcher?
    private let readLimit: Int
    private let promise: EventLoopPromise<HealthCheckResult>
    private var received: [UInt8] = []

    init(send: [UInt8], expect: AnswerExpectation?, readLimit: Int, promise: EventLoopPromise<HealthCheckResult>) {
        self.send = send
        self.matcher = expect?.makeMatcher()
        self.readLimit = matcher?.bytesWanted(limit: readLimit) ?? 0
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        if send.isEmpty {
            // Plain connect: done. With an expectation and nothing to send, wait for the server to speak first.
            if matcher == nil { promise.succeed(.passed) }
        } else {
            let written = context.eventLoop.makePromise(of: Void.self)
            if matcher == nil {
                // No answer awaited: the check passes once the request is written.
                let promise = self.promise
                written.futureResult.whenComplete { result in
                    switch result {
                    case .success: promise.succeed(.passed)
                    case .failure(let error): promise.succeed(HealthChecker.connectFailure(error))
                    }
                }
            }
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: send)), promise: written)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let matcher else { return }
        var buffer = unwrapInboundIn(data)
        let room = readLimit - received.count
        if room > 0, let bytes = buffer.readBytes(length: min(room, buffer.readableBytes)) {
            received.append(contentsOf: bytes)
        }
        let full = received.count >= readLimit
        switch matcher.judge(received, complete: full) {
        case .match: promise.succeed(.passed)
        case .mismatch: promise.succeed(.failed(.unexpectedAnswer(HealthCheckFailure.excerpt(received))))
        case .needMore: break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let matcher {
            switch matcher.judge(received, complete: true) {
            case .match:
                promise.succeed(.passed)
            case .mismatch, .needMore:
                let excerpt = HealthCheckFailure.excerpt(received)
                promise.succeed(
                    .failed(matcher.isCutOff(received) ? .closedBeforeAnswer(received: excerpt) : .unexpectedAnswer(excerpt)))
            }
        } else {
            promise.succeed(.failed(.closedBeforeAnswer(received: "")))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.succeed(HealthChecker.connectFailure(error))
        context.close(promise: nil)
    }
}

/// A short text for a socket error: the system's message for errno errors, else the error's description.
func describe(_ error: any Error) -> String {
    if let error = error as? IOError {
        return String(cString: strerror(error.errnoCode))
    }
    if let error = error as? ChannelError, case .connectTimeout = error {
        return "connect timed out"
    }
    return String(describing: error)
}
