import IPVS
import NIOCore

/// A real server a reload took out of lvs.cf (or made `active = 0`) while it was in the table: kept in its
/// service at weight 0, so that it takes no new connection and its open ones finish, and deleted once the kernel
/// shows no active connection to it, or at ``deadline`` (lvs.cf `drain_timeout`). Deleting it at once would cut
/// them: IPVS drops the packets of a connection whose destination is gone.
public struct RetiringServer: Sendable, Hashable {
    public var id: RealServerID
    public var service: ServiceKey
    public var destination: Destination
    public var since: NIODeadline
    public var deadline: NIODeadline
    /// Active connections the kernel showed at its last read; nil until read.
    public var activeConnections: UInt32?

    public init(id: RealServerID, service: ServiceKey, destination: Destination, since: NIODeadline, deadline: NIODeadline) {
        self.id = id
        self.service = service
        self.destination = destination
        self.since = since
        self.deadline = deadline
    }

    /// The reason `status` gives for it, at `now`.
    public func reason(now: NIODeadline) -> String {
        let left = max(0, (deadline - now).nanoseconds / 1_000_000_000)
        let connections = activeConnections.map { "\($0) active connection\($0 == 1 ? "" : "s")" } ?? "connections not read yet"
        return "weight 0: draining, removed from lvs.cf: \(connections); deleted when none is left, or in \(left) s"
    }
}
