/// The failover logic of one director, without I/O: it consumes heartbeats, timer ticks and link changes and
/// returns the actions to perform. Time is passed in (`now`), so it runs under a test clock.
///
/// Rules:
/// - A director starts as backup (``Action/becomeBackup(_:)`` with ``Reason/starting``: the caller removes any VIP
///   left behind by an earlier run) and announces itself every `keepalive`.
/// - The peer is dead when no valid heartbeat arrived on ANY link for `deadtime` (since start, before the first
///   one): losing one of two links is no reason to take over. A backup takes over from a dead peer, from a peer
///   announcing ``HeartbeatState/stopping``, and from a peer that is backup but unfit (its monitored links are down).
/// - With `monitor_links`, a director whose own links are down is unfit: it never takes over, and an unfit active
///   director steps down when a fit peer is alive.
/// - Two running directors in the same state (a healed partition, or both starting) resolve by rank, the same on
///   both sides: fit before unfit, then the configured primary, then the lower sender id. When both are active the
///   lower-ranked one steps down; when both are backup the higher-ranked one takes over. A director does not take the
///   VIPs from an active peer (no failback), so a recovered primary stays backup: no flapping.
/// - `service = fos`: a director whose failover services failed (``servicesChanged(failed:now:)``) is unfit too, in
///   the same heartbeat flag, so an active one steps down to a fit live peer and the peer takes over. Unlike a
///   director with its links down it may still take over from a dead, stopping or (when it ranks higher) unfit backup
///   peer: trying the service again beats running it nowhere.
/// - Session nonces (replays across restarts are useless): this director picks a random ``nonce`` per start and
///   echoes the newest nonce it heard from the peer (``echo``). Only a message that echoes ``nonce`` proves the peer
///   alive: it was sent after the peer heard this run, so a message captured before this director started, which
///   cannot carry the nonce, moves no deadline and no role. The peer's nonce is learned from any authentic message
///   whose sequence is the newest seen from the peer (sequences grow across the peer's restarts, on its own clock),
///   so old replays cannot make this director echo a stale nonce once the peer's current run has been heard. A newly
///   learned nonce is answered at once (the handshake): two directors started together converge within a round
///   trip, and a lone director still takes over at deadtime, whatever is replayed at it.
public struct PeerStateMachine<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public typealias Configuration = PeerConfiguration
    public typealias Role = DirectorRole
    public typealias Reason = RoleChangeReason

    public enum Action: Sendable, Hashable {
        /// Send a heartbeat announcing `state` (and this director's fitness) on every link.
        case sendHeartbeat(HeartbeatState, fit: Bool)
        /// Take the virtual addresses over.
        case becomeActive(Reason)
        /// Give the virtual addresses up (at start: remove leftovers).
        case becomeBackup(Reason)
        /// Call ``timerFired(now:)`` at this instant (replaces any earlier timer).
        case scheduleTimer(at: Instant)

        var isSend: Bool { if case .sendHeartbeat = self { true } else { false } }
    }

    /// What the last valid heartbeat said about the peer (the same type whatever the instant).
    public typealias Peer = HeartbeatPeer

    private enum Phase: Sendable, Hashable {
        case idle
        case running(Role)
        case stopped
    }

    public let configuration: Configuration
    private var phase: Phase = .idle
    private var startedAt: Instant?
    private var nextSend: Instant?
    private var lastHeard: [Instant?]
    /// The last valid heartbeat's content.
    public private(set) var peer: Peer?
    /// False when `monitor_links` is on and this director's links are down, or its failover services failed.
    public var fit: Bool { linksUp && !servicesFailed }
    /// False when `monitor_links` is on and this director's links are down.
    public private(set) var linksUp = true
    /// True while this director's failover services count as failed (`service = fos`).
    public private(set) var servicesFailed = false
    /// This run's session nonce, sent as ``HeartbeatMessage/bootID``.
    public let nonce: UInt64
    /// The peer's session nonce as last learned, sent as ``HeartbeatMessage/echo``; 0 before any.
    public private(set) var echo: UInt64 = 0
    /// The highest sequence of an authentic message from the peer (orders the peer's nonces).
    private var newestSequence: UInt64 = 0

    public init(configuration: Configuration, nonce: UInt64 = .random(in: 1...UInt64.max)) {
        self.configuration = configuration
        self.nonce = nonce
        self.lastHeard = Array(repeating: nil, count: configuration.linkCount)
    }

    /// This director's role, nil before ``start(now:)`` and after ``stop(now:)``.
    public var role: Role? {
        if case .running(let role) = phase { return role }
        return nil
    }

    /// When the peer counts as dead unless a heartbeat arrives; nil before start.
    public var peerDeadline: Instant? {
        let last = lastHeard.compactMap { $0 }.max() ?? startedAt
        return last.map { $0.advanced(by: configuration.deadtime) }
    }

    /// When the last valid heartbeat arrived, on any link; nil when none has.
    public var lastHeardAt: Instant? { lastHeard.compactMap { $0 }.max() }

    /// Whether a valid heartbeat arrived within `deadtime` before `now` on at least one link.
    public func isPeerAlive(now: Instant) -> Bool {
        lastHeard.contains { $0.map { now < $0.advanced(by: configuration.deadtime) } ?? false }
    }

    /// Links on which no valid heartbeat arrived within `deadtime` before `now` (for status and logs).
    public func silentLinks(now: Instant) -> [Int] {
        lastHeard.indices.filter { lastHeard[$0].map { now >= $0.advanced(by: configuration.deadtime) } ?? true }
    }

    /// Starts as backup and announces it.
    public mutating func start(now: Instant) -> [Action] {
        guard case .idle = phase else { return [] }
        phase = .running(.backup)
        startedAt = now
        nextSend = now.advanced(by: configuration.keepalive)
        return [.becomeBackup(.starting), .sendHeartbeat(.backup, fit: fit)] + evaluate(now: now)
    }

    /// Whether `message` proves the peer alive: it echoes this run's ``nonce``.
    public func isLive(_ message: HeartbeatMessage) -> Bool { message.echo == nonce }

    /// Handles an authentic heartbeat (``HeartbeatVerifier``) that arrived on `link` (an index below `linkCount`).
    ///
    /// A message that does not echo ``nonce`` only teaches the peer's nonce (answered at once with a heartbeat when
    /// it is new); one that does counts as the peer being heard.
    public mutating func heartbeatReceived(_ message: HeartbeatMessage, link: Int, now: Instant) -> [Action] {
        guard case .running(let role) = phase, lastHeard.indices.contains(link),
            message.senderID != configuration.senderID
        else { return [] }
        var learned = false
        if message.sequence > newestSequence {
            newestSequence = message.sequence
            learned = message.bootID != echo
            echo = message.bootID
        }
        guard isLive(message) else {
            return learned ? [.sendHeartbeat(role == .active ? .active : .backup, fit: fit)] : []
        }
        // Heard before, then silent for deadtime: cut off, it may have taken the addresses over meanwhile.
        let returned = peer != nil && !isPeerAlive(now: now)
        lastHeard[link] = now
        let previous = peer?.state
        peer = Peer(
            state: message.state, configuredRole: message.configuredRole, fit: message.fit, senderID: message.senderID)
        var actions = evaluate(now: now)
        // A healed split brain: the peer was active too and stepped down, or it comes back from a silence long
        // enough to have gone active, already stepped down (its first message to get through says backup). Its
        // gratuitous ARPs may have moved the clients meanwhile, so this director announces its addresses again
        // (keepalived#2387).
        if role == .active, previous == .active || returned, message.state != .active, case .running(.active) = phase {
            actions.insert(.becomeActive(returned && previous != .active ? .peerReturned : .peerSteppedDown), at: 0)
        }
        // The peer's nonce is new (its non-echoing first message was lost): answer at once, unless a role change did.
        guard learned, case .running(let newRole) = phase, !actions.contains(where: \.isSend) else { return actions }
        return [.sendHeartbeat(newRole == .active ? .active : .backup, fit: fit)] + actions
    }

    /// Handles the timer requested by ``Action/scheduleTimer(at:)``; early or late calls are harmless.
    public mutating func timerFired(now: Instant) -> [Action] {
        guard case .running(let role) = phase, let due = nextSend else { return [] }
        var actions: [Action] = []
        if now >= due {
            actions.append(.sendHeartbeat(role == .active ? .active : .backup, fit: fit))
            let next = due.advanced(by: configuration.keepalive)
            nextSend = next > now ? next : now.advanced(by: configuration.keepalive)
        }
        return actions + evaluate(now: now)
    }

    /// Reports whether this director's monitored links are all up; ignored unless `monitorLinks`.
    public mutating func localLinksChanged(up: Bool, now: Instant) -> [Action] {
        guard configuration.monitorLinks, up != linksUp, case .running = phase else { return [] }
        linksUp = up
        return fitnessChanged(now: now)
    }

    /// Reports whether this director's failover services failed (`service = fos`), so that the peer takes them over;
    /// announced at once in the heartbeat's fit flag.
    public mutating func servicesChanged(failed: Bool, now: Instant) -> [Action] {
        guard failed != servicesFailed, case .running = phase else { return [] }
        servicesFailed = failed
        return fitnessChanged(now: now)
    }

    private mutating func fitnessChanged(now: Instant) -> [Action] {
        guard case .running(let role) = phase else { return [] }
        let actions = evaluate(now: now)
        // Announce the new fitness at once, unless a role change already did.
        if actions.contains(where: \.isSend) { return actions }
        return [.sendHeartbeat(role == .active ? .active : .backup, fit: fit)] + actions
    }

    /// Shuts down: gives the VIPs up if held and tells the peer to take over at once.
    public mutating func stop(now: Instant) -> [Action] {
        guard case .running(let role) = phase else { return [] }
        phase = .stopped
        return (role == .active ? [.becomeBackup(.shuttingDown)] : []) + [.sendHeartbeat(.stopping, fit: fit)]
    }

    /// Whether this director ranks above the peer (see the type's documentation).
    func outranks(_ peer: Peer) -> Bool {
        if fit != peer.fit { return fit }
        if configuration.role != peer.configuredRole { return configuration.role == .primary }
        return configuration.senderID < peer.senderID
    }

    /// Applies the rules after any input; returns the role change (if any) and the next timer.
    private mutating func evaluate(now: Instant) -> [Action] {
        guard case .running(let role) = phase, var wake = nextSend else { return [] }
        let livePeer = isPeerAlive(now: now) ? peer : nil
        var change: Action?
        switch role {
        case .backup:
            guard linksUp else { break }
            if let livePeer {
                switch livePeer.state {
                case .stopping: change = .becomeActive(.peerStopping)
                case .active: break
                case .backup:
                    if !livePeer.fit {
                        // Both unfit (failed services): only the higher-ranked one tries, so they do not both take over.
                        if fit || outranks(livePeer) { change = .becomeActive(.peerUnfit) }
                    } else if outranks(livePeer) {
                        change = .becomeActive(.outranksBackupPeer)
                    }
                }
            } else if let deadline = peerDeadline, now >= deadline {
                change = .becomeActive(.peerDead)
            }
        case .active:
            guard let livePeer, livePeer.state != .stopping, !outranks(livePeer) else { break }
            if !fit, livePeer.fit {
                change = .becomeBackup(linksUp ? .ownServicesFailed : .ownLinksDown)
            } else if livePeer.state == .active {
                change = .becomeBackup(.peerOutranks)
            }
        }
        var actions: [Action] = []
        if let change {
            let newRole: Role
            if case .becomeActive = change { newRole = .active } else { newRole = .backup }
            phase = .running(newRole)
            actions = [change, .sendHeartbeat(newRole == .active ? .active : .backup, fit: fit)]
            nextSend = now.advanced(by: configuration.keepalive)
            wake = now.advanced(by: configuration.keepalive)
        }
        if let deadline = peerDeadline, deadline > now, deadline < wake { wake = deadline }
        actions.append(.scheduleTimer(at: wake))
        return actions
    }
}
