import Addressing
import NIOCore
import Synchronization

/// The director's idle HTTP/1.1 keep-alive connections to the h2e-agents, one per agent at most, shared by every
/// ``AgentClient`` (and ``LoadCollector``) given it: the next `GET /load.json` to that agent reuses it instead of
/// opening a new TCP connection, which costs the agent three times the CPU of the answer itself.
///
/// The decisions are ``AgentPoolState``'s; this type only holds it under a lock and closes what it says. Its owner
/// calls ``prune(keeping:idleLimit:now:)`` every round (servers that left, connections idle too long) and
/// ``closeAll()`` on shutdown. A connection the agent closes while idle is forgotten when it closes.
public final class AgentConnectionPool: Sendable {
    /// An agent, as the client connects to it.
    public typealias Key = AgentEndpoint

    private let state: Mutex<AgentPoolState<Key, any Channel>>

    /// `capacity`: most idle connections until the first ``prune(keeping:idleLimit:now:)`` sets it to the number
    /// of servers; `idleLimit`: longest idle time before a connection is closed rather than reused.
    public init(capacity: Int = 256, idleLimit: TimeAmount = .seconds(6)) {
        state = Mutex(AgentPoolState(capacity: capacity, idleLimit: idleLimit))
    }

    /// Idle connections kept now.
    public var idleCount: Int { state.withLock { $0.count } }

    /// The idle connection to `key`, taken out of the pool for one exchange; nil: open a new one.
    func lease(_ key: Key, now: NIODeadline = .now()) -> (any Channel)? {
        let (connection, expired) = state.withLock { $0.lease(key, now: now) }
        expired?.close(promise: nil)
        // One closed meanwhile (its close notice may be on its way) is no use.
        guard let connection, connection.isActive else {
            connection?.close(promise: nil)
            return nil
        }
        return connection
    }

    /// Keeps `channel` for the next exchange with `key`.
    func giveBack(_ key: Key, _ channel: any Channel, now: NIODeadline = .now()) {
        guard channel.isActive else { return }
        let close = state.withLock { $0.giveBack(key, channel, id: ObjectIdentifier(channel), now: now) }
        for channel in close { channel.close(promise: nil) }
    }

    /// Watches a new connection to `key`, so that the pool forgets it once closed.
    func opened(_ key: Key, _ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        channel.closeFuture.whenComplete { [weak self] _ in self?.state.withLock { $0.closed(key, id: id) } }
    }

    /// Closes the idle connections of agents not in `keys` and those idle longer than `idleLimit` (which applies
    /// from now on); at most `keys.count` idle connections are kept from now on.
    public func prune(keeping keys: Set<Key>, idleLimit: TimeAmount, now: NIODeadline = .now()) {
        let close = state.withLock {
            $0.idleLimit = idleLimit
            return $0.prune(keeping: keys, now: now)
        }
        for channel in close { channel.close(promise: nil) }
    }

    /// Closes every idle connection; connections handed back afterwards are closed too (shutdown).
    public func closeAll() {
        for channel in state.withLock({ $0.closeAll() }) { channel.close(promise: nil) }
    }
}
