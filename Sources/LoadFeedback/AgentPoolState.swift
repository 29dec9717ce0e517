import NIOCore

/// The idle keep-alive connections of ``AgentConnectionPool``: which one to reuse, which ones to close. A value
/// type with time injected; it never does I/O, it returns the connections its caller must close.
///
/// At most one idle connection per key (agent address and port) and at most ``capacity`` in all: a fetch that
/// finds none opens its own, and of two connections handed back for one key the newer is kept. A connection idle
/// for longer than ``idleLimit`` is not reused (the agent closes idle connections too, after its request timeout,
/// 10 s by default).
public struct AgentPoolState<Key: Hashable & Sendable, Connection: Sendable>: Sendable {
    struct Entry: Sendable {
        var id: ObjectIdentifier
        var connection: Connection
        var idleSince: NIODeadline
    }

    /// Most idle connections kept; beyond it the longest idle is closed.
    public var capacity: Int
    /// Longest time a connection stays idle before it is closed.
    public var idleLimit: TimeAmount
    private var idle: [Key: Entry] = [:]

    public init(capacity: Int, idleLimit: TimeAmount) {
        self.capacity = capacity
        self.idleLimit = idleLimit
    }

    /// Idle connections kept now.
    public var count: Int { idle.count }

    /// Takes the idle connection of `key` for a fetch: nil when there is none. `expired` is the one found idle for
    /// longer than ``idleLimit`` (close it).
    public mutating func lease(_ key: Key, now: NIODeadline) -> (connection: Connection?, expired: Connection?) {
        guard let entry = idle.removeValue(forKey: key) else { return (nil, nil) }
        if now - entry.idleSince > idleLimit { return (nil, entry.connection) }
        return (entry.connection, nil)
    }

    /// A fetch is done with `connection` (identified by `id`), which may carry another request: keeps it idle and
    /// returns the connections to close (an older idle one of the same key, the longest idle one beyond
    /// ``capacity``, or this one if the capacity is 0).
    public mutating func giveBack(_ key: Key, _ connection: Connection, id: ObjectIdentifier, now: NIODeadline) -> [Connection] {
        var close: [Connection] = []
        if let older = idle.updateValue(Entry(id: id, connection: connection, idleSince: now), forKey: key) {
            close.append(older.connection)
        }
        while idle.count > capacity, let oldest = idle.min(by: { $0.value.idleSince < $1.value.idleSince }) {
            idle[oldest.key] = nil
            close.append(oldest.value.connection)
        }
        return close
    }

    /// The connection `id` closed (the agent closed it, or it failed): forgets it if it is idle here.
    public mutating func closed(_ key: Key, id: ObjectIdentifier) {
        if idle[key]?.id == id { idle[key] = nil }
    }

    /// Keeps only the idle connections of `keys` that have been idle no longer than ``idleLimit`` and limits
    /// ``capacity`` to the number of keys (the servers still polled); returns the others to close.
    public mutating func prune(keeping keys: Set<Key>, now: NIODeadline) -> [Connection] {
        capacity = keys.count
        var close: [Connection] = []
        for (key, entry) in idle where !keys.contains(key) || now - entry.idleSince > idleLimit {
            idle[key] = nil
            close.append(entry.connection)
        }
        return close
    }

    /// Forgets every idle connection and returns them to close (shutdown). The capacity becomes 0: connections
    /// handed back later are closed at once.
    public mutating func closeAll() -> [Connection] {
        capacity = 0
        defer { idle = [:] }
        return idle.values.map(\.connection)
    }
}
