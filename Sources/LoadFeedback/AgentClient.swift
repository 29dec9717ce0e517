import Addressing
import AgentWire
import NIOCore
import NIOPosix

/// Fetches `GET /load.json` from real servers' h2e-agents: a small HTTP/1.1 client on SwiftNIO.
///
/// Every fetch is bounded: the TCP connect by ``Configuration/connectTimeout``, the whole exchange (connect included)
/// by ``Configuration/deadline``, the answer by ``Configuration/maximumSize`` bytes. A fetch never throws and never
/// blocks a thread: whatever goes wrong becomes ``LoadReading/failed(_:)`` with the reason. Fetches of many servers
/// run concurrently on the event loop group. With an ``AgentConnectionPool``, a fetch reuses the agent's kept-alive
/// HTTP/1.1 connection, and retries once on a new one, within the same deadline, when the kept one was closed
/// before any answer (``AgentFetch``).
public struct AgentClient: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Limit for the TCP connect.
        public var connectTimeout: TimeAmount
        /// Limit for the whole exchange, connect included.
        public var deadline: TimeAmount
        /// Largest answer read (head and body); a longer one is a failure.
        public var maximumSize: Int
        /// Oldest sample accepted, whatever the agent's own `stale` flag says. The agent samples every minute.
        public var maximumAge: TimeAmount
        /// The request path.
        public var path: String

        public init(
            connectTimeout: TimeAmount = .seconds(1),
            deadline: TimeAmount = .seconds(3),
            maximumSize: Int = LoadDocument.maximumBytes,
            maximumAge: TimeAmount = .seconds(Int64(LoadDocument.staleAfterSeconds)),
            path: String = "/load.json"
        ) {
            self.connectTimeout = connectTimeout
            self.deadline = deadline
            self.maximumSize = maximumSize
            self.maximumAge = maximumAge
            self.path = path
        }
    }

    /// One agent to ask.
    public struct Target: Sendable, Hashable, CustomStringConvertible {
        public var endpoint: AgentEndpoint
        /// The server id the answer must carry, if known.
        public var expectedServer: String?
        /// Which live figure the reading takes.
        public var figure: AgentFigure

        public init(host: String, port: Int, expectedServer: String? = nil, figure: AgentFigure = .cpu) {
            self.endpoint = AgentEndpoint(host: host, port: port)
            self.expectedServer = expectedServer
            self.figure = figure
        }

        public var host: String {
            get { endpoint.host }
            set { endpoint.host = newValue }
        }
        public var port: Int {
            get { endpoint.port }
            set { endpoint.port = newValue }
        }
        public var description: String { endpoint.description }
    }

    public let configuration: Configuration
    private let group: any EventLoopGroup
    /// Where kept-alive connections wait for the next fetch; nil: a new connection per fetch (`Connection: close`).
    private let pool: AgentConnectionPool?

    public init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, configuration: Configuration = .init(),
        pool: AgentConnectionPool? = nil
    ) {
        self.group = group
        self.configuration = configuration
        self.pool = pool
    }

    /// The load of one server.
    public func fetch(_ target: Target) async -> LoadReading {
        // The future never fails: every error is mapped to a reading.
        (try? await self.fetchFuture(target).get()) ?? .failed(.unreachable("internal error"))
    }

    /// The loads of many servers, fetched concurrently.
    public func fetch(_ targets: [Target]) async -> [Target: LoadReading] {
        let futures = targets.map { ($0, self.fetchFuture($0)) }
        var readings: [Target: LoadReading] = [:]
        for (target, future) in futures {
            readings[target] = (try? await future.get()) ?? .failed(.unreachable("internal error"))
        }
        return readings
    }

    /// The body of `GET` ``Configuration/path`` from `target`, with every bound of a load fetch: for h2e's other
    /// JSON documents (a scale-out director's peers' `/status.json`).
    public func body(_ target: Target) async -> Result<[UInt8], LoadFailure> {
        do {
            let body = try await bodyFuture(target).get()
            return .success(Array(body.readableBytesView))
        } catch {
            return .failure(error as? LoadFailure ?? .unreachable("\(error)"))
        }
    }

    private func bodyFuture(_ target: Target) -> EventLoopFuture<ByteBuffer> {
        let configuration = self.configuration
        let pool = self.pool
        let key = target.endpoint
        // A kept connection belongs to its event loop: the whole fetch runs there.
        let kept = pool?.lease(key)
        let eventLoop = kept?.eventLoop ?? group.next()
        let answer = eventLoop.makePromise(of: ByteBuffer.self)
        eventLoop.execute {
            AgentFetch(eventLoop: eventLoop, key: key, configuration: configuration, pool: pool, answer: answer)
                .start(kept: kept)
        }
        return answer.futureResult
    }

    /// One fetch as a future that always succeeds with a reading.
    public func fetchFuture(_ target: Target) -> EventLoopFuture<LoadReading> {
        let configuration = self.configuration
        return bodyFuture(target)
            .map { body in
                LoadDocument.decode(body).map {
                    $0.reading(
                        receivedAt: .now(), maximumAge: configuration.maximumAge,
                        expectedServer: target.expectedServer, figure: target.figure)
                }.reduce()
            }
            .recover { error in .failed(error as? LoadFailure ?? .unreachable("\(error)")) }
    }
}

extension Result where Success == LoadReading, Failure == LoadFailure {
    /// Collapses a decode result into one reading.
    func reduce() -> LoadReading {
        switch self {
        case .success(let reading): return reading
        case .failure(let failure): return .failed(failure)
        }
    }
}

extension LoadFailure {
    /// Maps a connect error to the failure shown to the operator.
    init(connectError error: any Error) {
        switch error {
        case ChannelError.connectTimeout(let limit):
            self = .timedOut(limit)
        case let error as IOError:
            self = .unreachable(errnoText(error.errnoCode))
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first {
                self = LoadFailure(connectError: first.error)
            } else {
                self = .unreachable("\(error)")
            }
        default:
            self = .unreachable("\(error)")
        }
    }
}
