import NIOCore
import NIOPosix

/// Runs one check against one endpoint: the I/O layer, with no decisions beyond "passed" or "failed because".
///
/// TCP and UDP checks run on `group` (NIOPosix ClientBootstrap / DatagramBootstrap); `send_program` checks run on
/// `threadPool` (they block on the child). Every check completes within its timeout, and every error path completes
/// its promise.
public struct HealthChecker: Sendable {
    /// The most answer bytes a check reads (regex checks read up to this; prefix checks only strlen(expect)).
    public static let maximumAnswerBytes = 4_096

    public let group: any EventLoopGroup
    public let threadPool: NIOThreadPool

    public init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        threadPool: NIOThreadPool = .singleton
    ) {
        self.group = group
        self.threadPool = threadPool
    }

    /// Runs `check` against `endpoint`, giving up after `timeout`.
    public func run(_ check: HealthCheck, against endpoint: HealthEndpoint, timeout: Duration) async -> HealthCheckResult {
        await start(check, against: endpoint, timeout: timeout).outcome()
    }

    /// Starts `check` against `endpoint`; the future (on one of `group`'s loops) never fails and completes within
    /// `timeout` (a program check also waits for its child to be reaped after the kill).
    public func start(_ check: HealthCheck, against endpoint: HealthEndpoint, timeout: Duration)
        -> EventLoopFuture<HealthCheckResult>
    {
        switch check {
        case .connect:
            return tcp(send: [], expect: nil, to: endpoint.socketAddress, timeout: timeout)
        case .sendExpect(let send, let expect):
            return tcp(send: send, expect: expect, to: endpoint.socketAddress, timeout: timeout)
        case .udp(let send, let expect):
            return udp(send: send, expect: expect, to: endpoint.socketAddress, timeout: timeout)
        case .program(let commandLine, let expect):
            let command = HealthCheck.substitute(commandLine, endpoint: endpoint)
            let loop = group.next()
            return threadPool.runIfActive(eventLoop: loop) {
                ProgramRunner.run(command, expect: expect, timeout: timeout, outputLimit: Self.maximumAnswerBytes)
            }.flatMapErrorThrowing { error in
                .failed(.programNotStarted("thread pool stopped: \(error)"))
            }
        }
    }

    /// A TCP connect, optional send and optional answer check; the future never fails.
    public func tcp(
        send: [UInt8],
        expect: AnswerExpectation?,
        to address: SocketAddress,
        timeout: Duration
    ) -> EventLoopFuture<HealthCheckResult> {
        let loop = group.next()
        let promise = loop.makePromise(of: HealthCheckResult.self)
        let timer = loop.scheduleTask(in: TimeAmount(timeout)) { promise.succeed(.failed(.timeout)) }
        let connected = ClientBootstrap(group: loop)
            .connectTimeout(TimeAmount(timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        SendExpectHandler(send: send, expect: expect, readLimit: Self.maximumAnswerBytes, promise: promise))
                }
            }
            .connect(to: address)
        connected.whenComplete { result in
            switch result {
            case .success(let channel):
                promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
            case .failure(let error):
                promise.succeed(Self.connectFailure(error))
            }
        }
        return promise.futureResult.always { _ in timer.cancel() }
    }

    /// One datagram out, the first datagram back judged; the future never fails.
    public func udp(
        send: [UInt8],
        expect: AnswerExpectation,
        to address: SocketAddress,
        timeout: Duration
    ) -> EventLoopFuture<HealthCheckResult> {
        let loop = group.next()
        let promise = loop.makePromise(of: HealthCheckResult.self)
        let timer = loop.scheduleTask(in: TimeAmount(timeout)) { promise.succeed(.failed(.timeout)) }
        let connected = DatagramBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        DatagramExpectHandler(expect: expect, readLimit: Self.maximumAnswerBytes, promise: promise))
                }
            }
            .connect(to: address)
        connected.whenComplete { result in
            switch result {
            case .success(let channel):
                promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                channel.writeAndFlush(channel.allocator.buffer(bytes: send)).whenFailure { error in
                    promise.succeed(Self.connectFailure(error))
                }
            case .failure(let error):
                promise.succeed(Self.connectFailure(error))
            }
        }
        return promise.futureResult.always { _ in timer.cancel() }
    }

    /// The result of a check whose socket failed with `error`: inconclusive for a local error (out of descriptors,
    /// buffers, memory: see ``LocalCheckError``), else a failure of the server.
    static func connectFailure(_ error: any Error) -> HealthCheckResult {
        if let local = LocalCheckError.classify(error) { return .inconclusive(local) }
        if let error = error as? ChannelError, case .connectTimeout = error { return .failed(.timeout) }
        return .failed(.connectionFailed(describe(error)))
    }
}

extension EventLoopFuture where Value == HealthCheckResult {
    /// The result; these futures never fail, but a failure would still be reported as a failed check.
    func outcome() async -> HealthCheckResult {
        do {
            return try await self.get()
        } catch {
            return .failed(.connectionFailed(describe(error)))
        }
    }
}
