import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// A role change published by ``HeartbeatService/roleChanges``.
public struct RoleChange: Sendable, Hashable, CustomStringConvertible {
    public var role: DirectorRole
    public var reason: RoleChangeReason

    public var description: String { "\(role): \(reason)" }
}

/// Exchanges heartbeats with the peer over UDP, one socket per link bound to this director's own address, runs
/// ``PeerStateMachine`` on them and publishes role changes.
///
/// The first published change is ``DirectorRole/backup`` with ``RoleChangeReason/starting``: the consumer then
/// removes virtual addresses left behind by an earlier run. When ``run()`` is cancelled the service announces
/// ``HeartbeatState/stopping`` (so the peer takes over at once), publishes a give-up if it was active, finishes
/// ``roleChanges`` and returns.
public actor HeartbeatService {
    public struct Configuration: Sendable {
        public var peer: PeerConfiguration
        public var links: [HeartbeatLink]
        /// lvs.cf `heartbeat_port`.
        public var port: Int
        public var authentication: HeartbeatAuthentication
        /// Accepted clock difference for a heartbeat's send time.
        public var window: Duration

        public init(
            peer: PeerConfiguration, links: [HeartbeatLink], port: Int = 539, authentication: HeartbeatAuthentication,
            window: Duration = .seconds(30)
        ) {
            self.peer = peer
            self.links = links
            self.port = port
            self.authentication = authentication
            self.window = window
        }
    }

    enum Event: Sendable {
        case datagram(link: Int, bytes: [UInt8], source: SocketAddress)
        case timer
        case localLinks(up: Bool)
        case services(failed: Bool)
    }

    public nonisolated let roleChanges: AsyncStream<RoleChange>
    private let roleContinuation: AsyncStream<RoleChange>.Continuation
    private let configuration: Configuration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let wallClock: @Sendable () -> UInt64
    private let bootID: UInt64
    private var machine: PeerStateMachine<ContinuousClock.Instant>
    private var verifier: HeartbeatVerifier
    private var sequence: UInt64 = 0
    private var statisticsSnapshot = HeartbeatStatistics()
    private var events: AsyncStream<Event>.Continuation?
    private var timer: Task<Void, Never>?
    private var channels: [any Channel] = []
    private var peerAddresses: [SocketAddress] = []
    private var linksUp = true
    private var servicesFailed = false
    /// Off only in tests that simulate a crash (kill -9): the peer must then notice the silence.
    private(set) var announcesStopping = true

    func simulateCrashOnExit() { announcesStopping = false }

    public init(
        configuration: Configuration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "h2e.heartbeat"), bootID: UInt64 = .random(in: 1...UInt64.max),
        wallClock: @escaping @Sendable () -> UInt64 = HeartbeatService.systemWallClock
    ) throws(HeartbeatConfigurationError) {
        guard configuration.links.count == configuration.peer.linkCount else {
            throw .linkCount(configuration.links.count)
        }
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.bootID = bootID
        self.wallClock = wallClock
        machine = PeerStateMachine(configuration: configuration.peer)
        verifier = HeartbeatVerifier(
            authentication: configuration.authentication, window: configuration.window,
            ownSenderID: configuration.peer.senderID)
        (roleChanges, roleContinuation) = AsyncStream.makeStream()
    }

    /// Nanoseconds since the Unix epoch.
    public static let systemWallClock: @Sendable () -> UInt64 = {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// The current counters and state.
    public var statistics: HeartbeatStatistics {
        var snapshot = statisticsSnapshot
        snapshot.role = machine.role
        snapshot.peer = machine.peer
        let now = ContinuousClock.now
        snapshot.silentLinks = machine.silentLinks(now: now)
        snapshot.peerAlive = machine.isPeerAlive(now: now)
        snapshot.sinceHeard = machine.lastHeardAt.map { $0.duration(to: now) }
        snapshot.accepted = verifier.accepted
        snapshot.rejections = verifier.rejections
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
        await perform(machine.start(now: .now))
        if !linksUp { await perform(machine.localLinksChanged(up: false, now: .now)) }
        if servicesFailed { await perform(machine.servicesChanged(failed: true, now: .now)) }
        await withTaskCancellationHandler {
            for await event in stream {
                await handle(event)
            }
        } onCancel: {
            continuation.finish()
        }
        if announcesStopping {
            await perform(machine.stop(now: .now))
        }
        await shutdown()
    }

    private func shutdown() async {
        timer?.cancel()
        events?.finish()
        for channel in channels { try? await channel.close() }
        channels = []
        roleContinuation.finish()
    }

    private func bind(link: Int, address: String, events: AsyncStream<Event>.Continuation) async throws -> any Channel {
        try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramForwarder(link: link, events: events))
                }
            }
            .bind(host: address, port: configuration.port)
            .get()
    }

    private func handle(_ event: Event) async {
        switch event {
        case .timer:
            await perform(machine.timerFired(now: .now))
        case .localLinks(let up):
            await perform(machine.localLinksChanged(up: up, now: .now))
        case .services(let failed):
            await perform(machine.servicesChanged(failed: failed, now: .now))
        case .datagram(let link, let bytes, let source):
            guard source.ipAddress == peerAddresses[link].ipAddress else {
                verifier.count(.unexpectedSource)
                logger.debug("heartbeat rejected", metadata: ["source": "\(source)", "why": "unexpected source"])
                return
            }
            switch verifier.verify(bytes, link: UInt8(link), now: wallClock()) {
            case .success(let message):
                await perform(machine.heartbeatReceived(message, link: link, now: .now))
            case .failure(let rejection):
                logger.notice("heartbeat rejected", metadata: ["source": "\(source)", "why": "\(rejection)"])
            }
        }
    }

    private func perform(_ actions: [PeerStateMachine<ContinuousClock.Instant>.Action]) async {
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
                let events = events
                timer = Task {
                    guard (try? await ContinuousClock().sleep(until: at)) != nil else { return }
                    events?.yield(.timer)
                }
            }
        }
    }

    private func send(state: HeartbeatState, fit: Bool) async {
        let now = wallClock()
        for (index, channel) in channels.enumerated() {
            sequence += 1
            let message = HeartbeatMessage(
                state: state, configuredRole: configuration.peer.role, fit: fit, link: UInt8(index),
                senderID: configuration.peer.senderID, sequence: sequence, bootID: bootID, sentAt: now)
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

/// Hands received datagrams to the service's event stream.
final class DatagramForwarder: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let link: Int
    let events: AsyncStream<HeartbeatService.Event>.Continuation

    init(link: Int, events: AsyncStream<HeartbeatService.Event>.Continuation) {
        self.link = link
        self.events = events
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        events.yield(.datagram(link: link, bytes: Array(envelope.data.readableBytesView), source: envelope.remoteAddress))
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
