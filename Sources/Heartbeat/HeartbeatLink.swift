/// One heartbeat link: this director's own address on it and the peer's (lvs.cf `primary`/`backup`, and
/// optionally `primary_private`/`backup_private`). Both directors list their links in the same order.
public struct HeartbeatLink: Sendable, Hashable {
    /// This director's address; the heartbeat socket binds to it (never to the wildcard address).
    public var local: String
    public var peer: String

    public init(local: String, peer: String) {
        self.local = local
        self.peer = peer
    }
}
