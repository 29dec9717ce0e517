import HostSystem
import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// A role change published by ``ClockedHeartbeatService/roleChanges``.
public struct RoleChange: Sendable, Hashable, CustomStringConvertible {
    public var role: DirectorRole
    public var reason: RoleChangeReason

    public var description: String { "\(role): \(reason)" }
}

/// The heartbeat service on the system's monotonic clock: what the director runs.
public typealias HeartbeatService = ClockedHeartbeatService<ContinuousClock>

/// Exchanges heartbeats with the peer over UDP, one socket per link bound to this director's own address, runs
/// ``PeerStateMachine`` on them and publishes role changes.
///
/// All of its time comes from `clock`: the instants the state machine sees (heartbeats heard, keepalives, deadtime),
/// its timers and the rejection log's interval. Production code uses ``HeartbeatService`` (`ContinuousClock`); tests
/// pass a manual clock, so that keepalive, deadtime and takeover happen exactly when the test advances it, while the
/// heartbeats themselves still travel over real sockets. (Only the receivers' batching of rejection counts runs on
/// the event loop's own time: it orders no failover decision.)
///
/// The first published change is ``DirectorRole/backup`` with ``RoleChangeReason/starting``: the consumer then
/// removes virtual addresses left behind by an earlier run. When ``run()`` is cancelled the service announces
/// ``HeartbeatState/stopping`` (so the peer takes over at once), publishes a give-up if it was active, finishes
/// ``roleChanges`` and returns.
///
/// Receive path, built so that a flood of forged datagrams (measured: ~110k/s) cannot delay genuine heartbeats:
/// - Each link's datagrams are checked on the socket's event loop (``HeartbeatReceiver``), cheapest first: source
///   address, then ``HeartbeatVerifier`` (header, link, sender, sequence floor, and only then the HMAC). Only
///   authentic messages reach this actor; rejections reach it as counts, at most 10 times a second per link.
///   Before this design every datagram went through one unbounded queue into the actor, which computed the HMAC and
///   logged a line for each: under the flood the queue grew faster than it drained, genuine heartbeats and timer
///   ticks waited seconds behind forged ones, and the backup declared the healthy primary dead.
/// - The sockets are read in batches (recvmmsg, ``HeartbeatConfiguration/readBatch`` messages per call) into a large
///   receive buffer (``HeartbeatConfiguration/receiveBufferBytes``, forced past `net.core.rmem_max` when the process has
///   CAP_NET_ADMIN), so a burst queued in the kernel does not overflow it and drop the genuine datagram among them.
/// - Rejections are counted per reason (``statistics``) and logged at most once per
///   ``HeartbeatConfiguration/rejectionLogInterval`` (``HeartbeatRejectionLog``).
public actor ClockedHeartbeatService<C: Clock> where C.Duration == Duration {
    public typealias Configuration = HeartbeatConfiguration
    typealias Event = HeartbeatServiceEvent

    public nonisolated let roleChanges: AsyncStream<RoleChange>
    private let roleContinuation: AsyncStream<RoleChange>.Continuation
    private let configuration: Configuration
    private let clock: C
    private let group: any EventLoopGroup
    private let logger: Logger
    private var machine: PeerStateMachine<C.Instant>
    /// Starts at the wall clock when the service is created (see ``HeartbeatMessage``): it grows across restarts.
    private var sequence: UInt64
    private var rejectionLog: HeartbeatRejectionLog<C.Instant>
    private var statisticsSnapshot = HeartbeatStatistics()
    private var events: AsyncStream<Event>.Continuation?
    private var timer: Task<Void, Never>?
    private var flushTimer: Task<Void, Never>?
    private var channels: [any Channel] = []
    private var peerAddresses: [SocketAddress] = []
    private var linksUp = true
    private var servicesFailed = false
    /// Off only in tests that simulate a crash (kill -9): the peer must then notice the silence.
    private(set) var announcesStopping = true

    func simulateCrashOnExit() { announcesStopping = false }

    /// - Parameters:
    ///   - clock: the source of every instant and timer of the service (see the type's documentation).
    ///   - bootID: this run's session nonce (random; fixed only by tests).
    ///   - wallClock: nanoseconds since the epoch, where the heartbeat sequence starts (it must grow across restarts,
    ///     which a monotonic clock does not).
    /// - Throws: ``HeartbeatConfigurationError/linkCount(_:)`` when the links do not match the peer configuration.
    public init(
        configuration: Configuration, clock: C, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "h2e.heartbeat"), bootID: UInt64 = .random(in: 1...UInt64.max),
        wallClock: @escaping @Sendable () -> UInt64 = WallClock.nanoseconds
    ) throws(HeartbeatConfigurationError) {
        guard configuration.links.count == configuration.peer.linkCount else {
            throw .linkCount(configuration.links.count)
        }
        self.configuration = configuration
        self.clock = clock
        self.group = group
        self.logger = logger
        sequence = wallClock()
        machine = PeerStateMachine(configuration: configuration.peer, nonce: bootID)
        rejectionLog = HeartbeatRejectionLog(interval: configuration.rejectionLogInterval)
        (roleChanges, roleContinuation) = AsyncStream.makeStream()
    }

    /// A service on `ContinuousClock`, the director's (see ``init(configuration:clock:group:logger:bootID:wallClock:)``).
    public init(
        configuration: Configuration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "h2e.heartbeat"), bootID: UInt64 = .random(in: 1...UInt64.max),
        wallClock: @escaping @Sendable () -> UInt64 = WallClock.nanoseconds
    ) throws(HeartbeatConfigurationError) where C == ContinuousClock {
        try self.init(
            configuration: configuration, clock: ContinuousClock(), group: group, logger: logger, bootID: bootID,
            wallClock: wallClock)
    }

    /// This run's session nonce (sent as ``HeartbeatMessage/bootID``).
    public var nonce: UInt64 { machine.nonce }

    /// The current counters and state.
    public var statistics: HeartbeatStatistics {
        var snapshot = statisticsSnapshot
        snapshot.role = machine.role
        snapshot.peer = machine.peer
        let now = clock.now
        snapshot.silentLinks = machine.silentLinks(now: now)
        snapshot.peerAlive = machine.isPeerAlive(now: now)
        snapshot.sinceHeard = machine.lastHeardAt.map { $0.duration(to: now) }
        return snapshot
    }

    /// monitor_links: reports whether this director's monitored links are all up (see ``LinkMonitor``). May be
    /// called before ``run()``.
    public func localLinksChanged(up: Bool) {
        linksUp = up
        events?.yield(.localLinks(up: up))
    }

    /// service = fos: reports whether this director's failover services failed; the heartbeat then announces it
    /// unfit, so a fit peer takes them over (see ``PeerStateMachine``). May be called before ``run()``.
    public func servicesChanged(failed: Bool) {
        servicesFailed = failed
        events?.yield(.services(failed: failed))
    }

    /// Binds the links and runs until cancelled. Throws if a link cannot be bound.
    public func run() async throws {
        let (stream, continuation) = AsyncStream<Event>.makeStream()
        events = continuation
        do {
            for (index, link) in configuration.links.enumerated() {
                peerAddresses.append(try SocketAddress(ipAddress: link.peer, port: configuration.port))
                channels.append(try await bind(link: index, address: link.local, events: continuation))
            }
        } catch {
            await shutdown()
            throw HeartbeatServiceError.bind(configuration.links[channels.count].local, port: configuration.port, "\(error)")
        }
        logger.info("heartbeat started", metadata: ["links": "\(configuration.links)", "port": "\(configuration.port)"])
        await perform(machine.start(now: clock.now))
        if !linksUp { await perform(machine.localLinksChanged(up: false, now: clock.now)) }
        if servicesFailed { await perform(machine.servicesChanged(failed: true, now: clock.now)) }
        await withTaskCancellationHandler {
            for await event in stream {
                await handle(event)
            }
        } onCancel: {
            continuation.finish()
        }
        if announcesStopping {
            await perform(machine.stop(now: clock.now))
        }
        await shutdown()
    }

    private func shutdown() async {
        timer?.cancel()
        flushTimer?.cancel()
        events?.finish()
        for channel in channels { try? await channel.close() }
        channels = []
        roleContinuation.finish()
    }

    private func bind(link: Int, address: String, events: AsyncStream<Event>.Continuation) async throws -> any Channel {
        let verifier = HeartbeatVerifier(
            authentication: configuration.authentication, link: UInt8(link), ownSenderID: configuration.peer.senderID)
        let peer = try SocketAddress(ipAddress: configuration.links[link].peer, port: configuration.port)
        let channel = try await DatagramBootstrap(group: group)
            .channelOption(.datagramVectorReadMessageCount, value: configuration.readBatch)
            .channelOption(.maxMessagesPerRead, value: 16)
            // With vector reads NIO splits one buffer between the messages of a batch: 256 bytes each holds a heartbeat
            // (72); anything longer arrives truncated and is rejected for its length, as it would be anyway.
            .channelOption(
                .recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: configuration.readBatch * 256))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        HeartbeatReceiver(link: link, peer: peer, verifier: verifier, events: events))
                }
            }
            .bind(host: address, port: configuration.port)
            .get()
        // SO_RCVBUFFORCE passes net.core.rmem_max (the director has CAP_NET_ADMIN for IPVS); otherwise the kernel
        // caps SO_RCVBUF at rmem_max, still the most an unprivileged process gets.
        let size = configuration.receiveBufferBytes
        do {
            try await channel.setOption(.socketOption(.init(rawValue: SO_RCVBUFFORCE)), value: .init(size)).get()
        } catch {
            try? await channel.setOption(.socketOption(.so_rcvbuf), value: .init(size)).get()
        }
        return channel
    }

    private func handle(_ event: Event) async {
        switch event {
        case .timer:
            await perform(machine.timerFired(now: clock.now))
        case .localLinks(let up):
            await perform(machine.localLinksChanged(up: up, now: clock.now))
        case .services(let failed):
            await perform(machine.servicesChanged(failed: failed, now: clock.now))
        case .heartbeat(let link, let message):
            if machine.isLive(message) {
                statisticsSnapshot.accepted += 1
            } else {
                countRejections([.notEchoed: 1])
            }
            await perform(machine.heartbeatReceived(message, link: link, now: clock.now))
        case .rejected(let counts):
            countRejections(counts)
        case .flushRejectionLog:
            flushTimer = nil
            if let summary = rejectionLog.flush(now: clock.now) { log(summary) }
            scheduleRejectionLogFlush()
        }
    }

    private func countRejections(_ counts: [HeartbeatRejection: Int]) {
        for (reason, count) in counts { statisticsSnapshot.rejections[reason, default: 0] += count }
        if let summary = rejectionLog.record(counts, now: clock.now) { log(summary) }
        scheduleRejectionLogFlush()
    }

    private func log(_ summary: HeartbeatRejectionLog<C.Instant>.Summary) {
        var metadata: Logger.Metadata = [:]
        for (reason, count) in summary.counts { metadata[reason.label] = "\(count)" }
        metadata["interval"] = "\(configuration.rejectionLogInterval)"
        let level: Logger.Level = summary.counts.keys.contains { $0 != .notEchoed } ? .warning : .info
        logger.log(level: level, "heartbeat datagrams rejected: \(summary)", metadata: metadata)
    }

    private func scheduleRejectionLogFlush() {
        guard flushTimer == nil, let at = rejectionLog.nextFlush else { return }
        flushTimer = wake(at: at, with: .flushRejectionLog)
    }

    /// A task that hands `event` to the service at `instant` of its clock, unless cancelled first.
    private func wake(at instant: C.Instant, with event: Event) -> Task<Void, Never> {
        let (events, clock) = (events, clock)
        return Task {
            guard (try? await clock.sleep(until: instant, tolerance: nil)) != nil else { return }
            events?.yield(event)
        }
    }

    private func perform(_ actions: [PeerStateMachine<C.Instant>.Action]) async {
        for action in actions {
            switch action {
            case .sendHeartbeat(let state, let fit):
                await send(state: state, fit: fit)
            case .becomeActive(let reason):
                logger.notice("becoming active", metadata: ["reason": "\(reason)"])
                roleContinuation.yield(RoleChange(role: .active, reason: reason))
            case .becomeBackup(let reason):
                logger.notice("becoming backup", metadata: ["reason": "\(reason)"])
                roleContinuation.yield(RoleChange(role: .backup, reason: reason))
            case .scheduleTimer(let at):
                timer?.cancel()
                timer = wake(at: at, with: .timer)
            }
        }
    }

    private func send(state: HeartbeatState, fit: Bool) async {
        for (index, channel) in channels.enumerated() {
            sequence += 1
            let message = HeartbeatMessage(
                state: state, configuredRole: configuration.peer.role, fit: fit, link: UInt8(index),
                senderID: configuration.peer.senderID, sequence: sequence, bootID: machine.nonce, echo: machine.echo)
            let envelope = AddressedEnvelope(
                remoteAddress: peerAddresses[index], data: ByteBuffer(bytes: configuration.authentication.seal(message)))
            do {
                try await channel.writeAndFlush(envelope).get()
                statisticsSnapshot.sent += 1
            } catch {
                // A link that is down fails its sends; the others still carry the heartbeat.
                statisticsSnapshot.sendFailures += 1
                logger.debug("heartbeat send failed", metadata: ["link": "\(index)", "error": "\(error)"])
            }
        }
    }
}

/// What ``ClockedHeartbeatService`` runs: the peer and its links (lvs.cf), authentication, and the receive path's
/// limits.
public struct HeartbeatConfiguration: Sendable {
    public var peer: PeerConfiguration
    public var links: [HeartbeatLink]
    /// lvs.cf `heartbeat_port`.
    public var port: Int
    public var authentication: HeartbeatAuthentication
    /// At most one log line about rejected datagrams per interval.
    public var rejectionLogInterval: Duration
    /// Requested SO_RCVBUF of each heartbeat socket.
    public var receiveBufferBytes: Int
    /// Datagrams read per recvmmsg call.
    public var readBatch: Int

    public init(
        peer: PeerConfiguration, links: [HeartbeatLink], port: Int = 539, authentication: HeartbeatAuthentication,
        rejectionLogInterval: Duration = .seconds(10), receiveBufferBytes: Int = 4 << 20, readBatch: Int = 64
    ) {
        self.peer = peer
        self.links = links
        self.port = port
        self.authentication = authentication
        self.rejectionLogInterval = rejectionLogInterval
        self.receiveBufferBytes = receiveBufferBytes
        self.readBatch = readBatch
    }
}

/// What the service handles, one at a time in arrival order: from the sockets' receivers, its timers and its callers.
enum HeartbeatServiceEvent: Sendable {
    /// An authentic message (``HeartbeatVerifier``) from the peer's address on `link`.
    case heartbeat(link: Int, HeartbeatMessage)
    /// Datagrams rejected on a link since its previous report.
    case rejected([HeartbeatRejection: Int])
    case timer
    case flushRejectionLog
    case localLinks(up: Bool)
    case services(failed: Bool)
}

/// Checks the datagrams of one link on its event loop and hands only authentic messages to the service; rejected
/// ones become counts, reported at most every ``reportInterval`` (so a flood costs the service ~10 events a second).
///
/// Order of checks: the source address (the peer's address on this link; a compare), then ``HeartbeatVerifier``
/// (header, link, sender, sequence floor, HMAC last).
final class HeartbeatReceiver: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    static let reportInterval = TimeAmount.milliseconds(100)

    let link: Int
    let peer: SocketAddress
    let events: AsyncStream<HeartbeatServiceEvent>.Continuation
    private var verifier: HeartbeatVerifier
    private let authenticator: HeartbeatAuthenticator
    private var pending: [HeartbeatRejection: Int] = [:]
    private var reportScheduled = false

    init(link: Int, peer: SocketAddress, verifier: HeartbeatVerifier, events: AsyncStream<HeartbeatServiceEvent>.Continuation) {
        self.link = link
        self.peer = peer
        self.verifier = verifier
        self.authenticator = HeartbeatAuthenticator(verifier.authentication)
        self.events = events
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard Self.sameHost(envelope.remoteAddress, peer) else { return reject(.unexpectedSource, context: context) }
        // Most of a blind flood fails here without a copy: not 72 bytes, or not our magic and version.
        guard envelope.data.readableBytes == HeartbeatMessage.length else { return reject(.wrongLength, context: context) }
        let bytes = envelope.data.getBytes(at: envelope.data.readerIndex, length: HeartbeatMessage.length) ?? []
        switch verifier.verify(bytes, using: authenticator) {
        case .success(let message): events.yield(.heartbeat(link: link, message))
        case .failure(let rejection): reject(rejection, context: context)
        }
    }

    private func reject(_ rejection: HeartbeatRejection, context: ChannelHandlerContext) {
        pending[rejection, default: 0] += 1
        guard !reportScheduled else { return }
        reportScheduled = true
        context.eventLoop.assumeIsolated().scheduleTask(in: Self.reportInterval) {
            self.reportScheduled = false
            self.events.yield(.rejected(self.pending))
            self.pending = [:]
        }
    }

    /// Compares the IP address only (the peer sends from its heartbeat port, but nothing depends on it), without
    /// formatting it as a string.
    static func sameHost(_ a: SocketAddress, _ b: SocketAddress) -> Bool {
        switch (a, b) {
        case (.v4(let x), .v4(let y)): x.address.sin_addr.s_addr == y.address.sin_addr.s_addr
        case (.v6(let x), .v6(let y)):
            withUnsafeBytes(of: x.address.sin6_addr) { p in withUnsafeBytes(of: y.address.sin6_addr) { q in p.elementsEqual(q) } }
        default: false
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and the like surface here on a connected-less UDP socket: not fatal.
    }
}

/// Why the heartbeat service could not start.
public enum HeartbeatServiceError: Error, Sendable, Hashable, CustomStringConvertible {
    case bind(String, port: Int, String)

    public var description: String {
        switch self {
        case .bind(let address, let port, let error):
            "cannot bind the heartbeat socket to \(address) port \(port): \(error) "
                + "(is the address configured on this director, and no other pulse/h2e running?)"
        }
    }
}
