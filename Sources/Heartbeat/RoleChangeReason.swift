/// Why a director's role changed.
public enum RoleChangeReason: Sendable, Hashable, CustomStringConvertible {
    case starting
    case peerDead
    case peerStopping
    case peerUnfit
    /// Both backup and this director ranks higher.
    case outranksBackupPeer
    /// Both active and the peer ranks higher.
    case peerOutranks
    /// monitor_links: this director's links are down and a fit peer can take over.
    case ownLinksDown
    /// service = fos: this director's failover services failed and a fit peer can take over.
    case ownServicesFailed
    /// Still active: the peer, active too (a split brain), stepped down. Not a change of role: the virtual addresses
    /// are announced again, since the peer's announcements may have moved the clients while both were active.
    case peerSteppedDown
    /// Still active: the peer was heard again after a silence of deadtime or more, already not active. Cut off, it
    /// may have gone active and announced the addresses meanwhile, so they are announced again.
    case peerReturned
    case shuttingDown

    public var description: String {
        switch self {
        case .starting: "starting"
        case .peerDead: "no heartbeat from the peer on any link within deadtime"
        case .peerStopping: "the peer is shutting down"
        case .peerUnfit: "the peer is unfit (its monitored links are down or its failover services failed)"
        case .outranksBackupPeer: "both directors are backup and this one ranks higher"
        case .peerOutranks: "both directors are active and the peer ranks higher"
        case .ownLinksDown: "this director's monitored links are down"
        case .ownServicesFailed: "this director's failover services failed"
        case .peerSteppedDown: "the peer, active too, stepped down: announcing the virtual addresses again"
        case .peerReturned:
            "the peer is heard again after deadtime (it may have taken the addresses over meanwhile): announcing the virtual addresses again"
        case .shuttingDown: "shutting down"
        }
    }
}
