import NIOCore
import NIOPosix

/// One `GET /load.json` of ``AgentClient``, on one event loop: on the pool's kept-alive connection to the agent
/// if there is one, else on a new connection; if the kept one turns out closed (the agent's idle timeout) before
/// any answer, once more on a new connection. The deadline covers everything, the retry included. Completes
/// `answer` exactly once, then keeps a reusable connection in the pool and closes any other.
///
/// Not Sendable: created and used on `eventLoop` only.
final class AgentFetch {
    private let eventLoop: any EventLoop
    private let key: AgentConnectionPool.Key
    private let configuration: AgentClient.Configuration
    private let pool: AgentConnectionPool?
    private let answer: EventLoopPromise<ByteBuffer>
    private var deadline: Scheduled<Void>?
    /// The connection of the exchange under way, closed if the deadline ends it.
    private var channel: (any Channel)?
    private var finished = false

    init(
        eventLoop: any EventLoop, key: AgentConnectionPool.Key, configuration: AgentClient.Configuration,
        pool: AgentConnectionPool?, answer: EventLoopPromise<ByteBuffer>
    ) {
        self.eventLoop = eventLoop
        self.key = key
        self.configuration = configuration
        self.pool = pool
        self.answer = answer
    }

    /// Starts on `kept` (a connection from the pool, on this event loop) or on a new connection.
    func start(kept: (any Channel)?) {
        let limit = configuration.deadline
        deadline = eventLoop.assumeIsolated().scheduleTask(in: limit) { self.finish(.failure(.timedOut(limit))) }
        if let kept {
            exchange(on: kept, kept: true)
        } else {
            connect()
        }
    }

    private func connect() {
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(min(configuration.connectTimeout, configuration.deadline))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHTTPClientHandlers() }
            }
        let connected: EventLoopFuture<any Channel>
        if let address = try? SocketAddress(ipAddress: key.host, port: key.port) {
            connected = bootstrap.connect(to: address)
        } else {
            connected = bootstrap.connect(host: key.host, port: key.port)
        }
        connected.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel):
                self.pool?.opened(self.key, channel)
                guard !self.finished else { return channel.close(promise: nil) }
                self.exchange(on: channel, kept: false)
            case .failure(let error):
                self.finish(.failure(LoadFailure(connectError: error)))
            }
        }
    }

    private func exchange(on channel: any Channel, kept: Bool) {
        self.channel = channel
        let outcome = eventLoop.makePromise(of: AgentResponseHandler.Outcome.self)
        let handler = AgentResponseHandler(
            host: key.description, path: configuration.path, limit: configuration.maximumSize, keepAlive: pool != nil,
            outcome: outcome)
        do {
            try channel.pipeline.syncOperations.addHandler(handler)
        } catch {
            // Closed meanwhile: the pipeline takes no handler.
            outcome.succeed(.failed(.unreachable("the connection closed before the request: \(error)"), answered: false))
        }
        outcome.futureResult.assumeIsolated().whenSuccess { result in
            guard !self.finished else { return }
            switch result {
            case .answer(let body, let reusable):
                self.channel = nil
                if reusable, let pool = self.pool {
                    pool.giveBack(self.key, channel)
                } else {
                    channel.close(promise: nil)
                }
                self.finish(.success(body))
            case .failed(_, answered: false) where kept:
                channel.close(promise: nil)
                self.connect()
            case .failed(let failure, _):
                self.finish(.failure(failure))
            }
        }
    }

    private func finish(_ result: Result<ByteBuffer, LoadFailure>) {
        guard !finished else { return }
        finished = true
        deadline?.cancel()
        channel?.close(promise: nil)
        channel = nil
        answer.completeWith(result.mapError { $0 as any Error })
    }
}
