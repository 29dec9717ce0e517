import NIOCore

/// The UDP side of a check: judges the first datagram that arrives and completes `promise`; an ICMP error on the
/// connected socket (port unreachable) fails it.
final class DatagramExpectHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let matcher: AnswerMatcher
    private let readLimit: Int
    private let promise: EventLoopPromise<HealthCheckResult>

    init(expect: AnswerExpectation, readLimit: Int, promise: EventLoopPromise<HealthCheckResult>) {
        self.matcher = expect.makeMatcher()
        self.readLimit = readLimit
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data).data
        let answer = buffer.readBytes(length: min(readLimit, buffer.readableBytes)) ?? []
        // A datagram is the whole answer.
        if matcher.judge(answer, complete: true) == .match {
            promise.succeed(.passed)
        } else {
            promise.succeed(.failed(.unexpectedAnswer(HealthCheckFailure.excerpt(answer))))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.succeed(HealthChecker.connectFailure(error))
        context.close(promise: nil)
    }
}
