/// Counters and state of a running ``ClockedHeartbeatService``, for status output and tests.
public struct HeartbeatStatistics: Sendable, Hashable {
    public var role: DirectorRole?
    /// What the peer's last valid heartbeat said (kept after the peer falls silent: see ``peerAlive``).
    public var peer: HeartbeatPeer?
    /// Whether a valid heartbeat arrived within deadtime on at least one link.
    public var peerAlive = false
    /// Time since the last valid heartbeat; nil when none arrived.
    public var sinceHeard: Duration?
    /// Links on which no valid heartbeat arrived within deadtime.
    public var silentLinks: [Int] = []
    public var sent = 0
    public var sendFailures = 0
    /// Authentic heartbeats that echoed this run's session nonce (proof the peer is alive).
    public var accepted = 0
    /// Rejected datagrams per reason, including authentic ones that did not echo the nonce (``HeartbeatRejection/notEchoed``).
    public var rejections: [HeartbeatRejection: Int] = [:]
}
