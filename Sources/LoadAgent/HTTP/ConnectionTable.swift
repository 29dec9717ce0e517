import NIOCore

/// The agent's open connections, on its one event loop: a bounded table in which a connection that has not sent a
/// request yet (just opened, or idle between keep-alive requests) gives its place up to a new one.
///
/// A director's probe sends its request as soon as it connects and is answered in a millisecond, while a slowloris
/// client holds its connection without ever finishing a request. With a plain cap, a few hundred such sockets
/// re-opened as fast as they are closed keep every probe out (0 of 40 answered). Here, at the cap, the connection
/// that has waited longest for its request is closed to admit the new one, so the waiting ones churn among
/// themselves and a client with a request gets through. Only when every connection is busy with a request is a new
/// one refused (503).
final class ConnectionTable {
    private struct Entry {
        var channel: Channel
        /// Since when the connection waits for a request; nil while one is being answered.
        var waitingSince: NIODeadline?
    }

    let capacity: Int
    private var entries: [ObjectIdentifier: Entry] = [:]
    /// Connections closed to make room, for the log and tests.
    private(set) var evicted = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// Admits `channel`, closing the longest-waiting connection if the table is full; false when every
    /// connection is busy with a request (refuse the new one).
    func admit(_ channel: Channel, now: NIODeadline) -> Bool {
        if entries.count >= capacity {
            guard let oldest = entries.filter({ $0.value.waitingSince != nil })
                .min(by: { $0.value.waitingSince! < $1.value.waitingSince! })
            else { return false }
            entries[oldest.key] = nil
            evicted += 1
            oldest.value.channel.close(promise: nil)
        }
        entries[ObjectIdentifier(channel)] = Entry(channel: channel, waitingSince: now)
        return true
    }

    /// A request head arrived: the connection is no longer evictable until its answer is written.
    func busy(_ channel: Channel) {
        entries[ObjectIdentifier(channel)]?.waitingSince = nil
    }

    /// The answer went out and the connection waits for its next request.
    func waiting(_ channel: Channel, now: NIODeadline) {
        entries[ObjectIdentifier(channel)]?.waitingSince = now
    }

    func remove(_ channel: Channel) {
        entries[ObjectIdentifier(channel)] = nil
    }
}
