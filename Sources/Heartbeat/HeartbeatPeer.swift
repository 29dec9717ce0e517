/// What the last valid heartbeat said about the peer (``PeerStateMachine/peer``, ``HeartbeatStatistics/peer``).
///
/// Declared outside ``PeerStateMachine`` (which calls it `Peer`) because it holds no instant: one type for machines
/// on any clock, so ``HeartbeatStatistics`` needs no clock parameter.
public struct HeartbeatPeer: Sendable, Hashable {
    public var state: HeartbeatState
    public var configuredRole: ConfiguredRole
    public var fit: Bool
    public var senderID: UInt64
}
