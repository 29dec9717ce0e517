/// Counters and state of a running ``HeartbeatService``, for status output and tests.
public struct HeartbeatStatistics: Sendable, Hashable {
    public var role: DirectorRole?
    public var peer: PeerStateMachine<ContinuousClock.Instant>.Peer?
    /// Links on which no valid heartbeat arrived within deadtime.
    public var silentLinks: [Int] = []
    public var sent = 0
    public var sendFailures = 0
    public var accepted = 0
    public var rejections: [HeartbeatRejection: Int] = [:]
}
