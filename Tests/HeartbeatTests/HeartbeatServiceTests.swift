import HostSystem
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import XCTest

@testable import Heartbeat

/// Collects a service's role changes.
actor RoleLog {
    private(set) var changes: [RoleChange] = []
    func append(_ change: RoleChange) { changes.append(change) }
}

/// Two heartbeat services on loopback addresses (127.0.0.2 primary, 127.0.0.3 backup) talking real UDP, on one
/// ``ManualClock``: keepalives, deadtime and takeover happen only when a test advances it. So a timing assertion is
/// exact ("a millisecond before deadtime: backup; at deadtime: active") and no test depends on this machine's speed;
/// only the arrival of datagrams is waited for (``eventually``).
final class HeartbeatServiceTests: XCTestCase {
    typealias Service = ClockedHeartbeatService<ManualClock>

    static let key = HeartbeatAuthentication.hmacSHA256(key: Array("loopback test key, 32 bytes long".utf8))
    let keepalive = Duration.milliseconds(100)
    let deadtime = Duration.milliseconds(500)
    let primaryBoot: UInt64 = 0x1111
    /// Both services' clock, a new one per test (XCTest makes an instance per test).
    let clock = ManualClock()
    var port = 0

    override func setUp() {
        // A port of our own, shared by both directors (as in lvs.cf), unlikely to collide with other test runs.
        port = 20_000 + Int(getpid()) % 20_000
    }

    /// The link both services use unless a test gives them others.
    static let link0 = (
        primary: HeartbeatLink(local: "127.0.0.2", peer: "127.0.0.3"),
        backup: HeartbeatLink(local: "127.0.0.3", peer: "127.0.0.2")
    )

    func makeService(
        _ role: ConfiguredRole, links: [HeartbeatLink]? = nil, boot: UInt64? = nil, logger: Logger? = nil
    ) throws -> Service {
        let links = links ?? [role == .primary ? Self.link0.primary : Self.link0.backup]
        let peerConfiguration = try PeerConfiguration(
            role: role, senderID: PeerConfiguration.senderID(forAddress: links[0].local)!, keepalive: keepalive,
            deadtime: deadtime, linkCount: links.count)
        return try Service(
            configuration: .init(peer: peerConfiguration, links: links, port: port, authentication: Self.key),
            clock: clock, logger: logger ?? Logger(label: "h2e.heartbeat"), bootID: boot ?? .random(in: 1...UInt64.max))
    }

    /// Runs a service and its role log; returns the run task.
    func start(_ service: Service, log: RoleLog) -> Task<Void, any Error> {
        Task { for await change in service.roleChanges { await log.append(change) } }
        return Task { try await service.run() }
    }

    /// Starts a primary and a backup and waits until they settled, with the clock still at zero: the handshake (each
    /// learns the other's nonce) and the primary's takeover from the backup it outranks need no timer.
    func startPair(
        links: (primary: [HeartbeatLink], backup: [HeartbeatLink])? = nil
    ) async throws -> (Service, Task<Void, any Error>, Service, Task<Void, any Error>, RoleLog) {
        let primary = try makeService(.primary, links: links?.primary, boot: primaryBoot)
        let backup = try makeService(.backup, links: links?.backup)
        let backupLog = RoleLog()
        let primaryTask = start(primary, log: RoleLog())
        let backupTask = start(backup, log: backupLog)
        let settled = await eventually {
            let p = await primary.statistics
            let b = await backup.statistics
            return p.role == .active && b.role == .backup && b.peer?.state == .active && p.accepted > 0
        }
        let (p, b) = (await primary.statistics, await backup.statistics)
        XCTAssertTrue(settled, "primary \(p), backup \(b)")
        return (primary, primaryTask, backup, backupTask, backupLog)
    }

    /// Advances the clock by a keepalive; returns whether `service` then heard its peer at the new instant (the peer's
    /// keepalive timer fired and its heartbeat arrived).
    func keepaliveHeard(by service: Service) async -> Bool {
        clock.advance(by: keepalive)
        return await eventually { await service.statistics.sinceHeard == .zero }
    }

    /// Waits until a sleep until `deadline` is pending: the service that schedules it handled what the last advance
    /// woke and chose to look again then, so what it decided can be asserted.
    func sleeping(until deadline: TestInstant) async -> Bool {
        await eventually { self.clock.deadlines.contains(deadline) }
    }

    func testBackupTakesOverAtDeadtimeAfterThePrimaryDies() async throws {
        let (primary, primaryTask, backup, backupTask, backupLog) = try await startPair()
        // Heartbeats keep it backup across two deadtimes.
        for tick in 1...10 {
            let heard = await keepaliveHeard(by: backup)
            XCTAssertTrue(heard, "keepalive \(tick)")
        }
        var role = await backup.statistics.role
        XCTAssertEqual(role, .backup)

        // kill -9: no stopping message, silence from the last heartbeat on (heard just now).
        await primary.simulateCrashOnExit()
        primaryTask.cancel()
        try await primaryTask.value
        let deadline = clock.now.advanced(by: deadtime)
        clock.advance(by: deadtime - .milliseconds(1))
        // It sent its keepalive there and sleeps until the peer's deadline, not a keepalive later.
        let waiting = await sleeping(until: deadline)
        XCTAssertTrue(waiting, "\(clock.deadlines)")
        let stats = await backup.statistics
        XCTAssertEqual(stats.role, .backup, "a millisecond before deadtime")
        XCTAssertEqual(stats.sinceHeard, deadtime - .milliseconds(1))
        XCTAssertTrue(stats.peerAlive)

        clock.advance(by: .milliseconds(1))
        let tookOver = await eventually { await backupLog.changes.last?.role == .active }
        XCTAssertTrue(tookOver, "at deadtime")
        role = await backup.statistics.role
        XCTAssertEqual(role, .active)
        let changes = await backupLog.changes
        XCTAssertEqual(changes, [RoleChange(role: .backup, reason: .starting), RoleChange(role: .active, reason: .peerDead)])
        backupTask.cancel()
        try await backupTask.value
    }

    func testGracefulStopHandsOverAtOnce() async throws {
        let (_, primaryTask, backup, backupTask, backupLog) = try await startPair()
        primaryTask.cancel()
        try await primaryTask.value
        // The log follows the role changes stream, a moment after the statistics: wait for it.
        let tookOver = await eventually { await backupLog.changes.last?.role == .active }
        XCTAssertTrue(tookOver)
        let last = await backupLog.changes.last
        // The clock never moved: not by waiting for deadtime.
        XCTAssertEqual(last, RoleChange(role: .active, reason: .peerStopping))
        let role = await backup.statistics.role
        XCTAssertEqual(role, .active)
        backupTask.cancel()
        try await backupTask.value
    }

    func testForgedAndReplayedDatagramsChangeNothingAndAreCounted() async throws {
        let (primary, primaryTask, backup, backupTask, backupLog) = try await startPair()
        let primaryID = PeerConfiguration.senderID(forAddress: "127.0.0.2")!
        func stopping(sequence: UInt64, echo: UInt64 = 0) -> HeartbeatMessage {
            HeartbeatMessage(
                state: .stopping, configuredRole: .primary, senderID: primaryID, sequence: sequence, bootID: primaryBoot,
                echo: echo)
        }
        let backupNonce = await backup.nonce
        let forger = HeartbeatAuthentication.hmacSHA256(key: Array("the attacker's guess at the key".utf8))
        let group = MultiThreadedEventLoopGroup.singleton
        let fromPrimary = try await DatagramBootstrap(group: group).bind(host: "127.0.0.2", port: 0).get()
        let fromElsewhere = try await DatagramBootstrap(group: group).bind(host: "127.0.0.9", port: 0).get()
        let target = try SocketAddress(ipAddress: "127.0.0.3", port: port)
        func send(_ bytes: [UInt8], via channel: any Channel = fromPrimary) async throws {
            try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(bytes: bytes))).get()
        }
        // Sequences start at the sender's wall clock: far above any the primary has sent, so only the MAC can
        // reject them (the forger's best case).
        let ahead = WallClock.nanoseconds() + 1_000_000_000_000
        try await send(forger.seal(stopping(sequence: ahead, echo: backupNonce)))  // forged
        try await send(HeartbeatAuthentication.none.seal(stopping(sequence: ahead + 1, echo: backupNonce)))  // unsigned
        try await send(Self.key.seal(stopping(sequence: 1, echo: backupNonce)))  // replay: below the floor
        var version1 = Self.key.seal(stopping(sequence: ahead + 2, echo: backupNonce))
        version1[4] = 1
        try await send(version1)  // an old director
        try await send(Array(Self.key.seal(stopping(sequence: ahead + 3)).prefix(50)))  // truncated
        try await send(Self.key.seal(stopping(sequence: ahead + 4, echo: backupNonce)), via: fromElsewhere)  // spoofed source

        let expected: [HeartbeatRejection: Int] = [
            .badMAC: 2, .replay: 1, .wrongVersion: 1, .wrongLength: 1, .unexpectedSource: 1,
        ]
        // The handshake at start may add a notEchoed or two: the primary's first message, before it heard us.
        func counted() async -> [HeartbeatRejection: Int] { await backup.statistics.rejections.filter { $0.key != .notEchoed } }
        let done = await eventually { await counted() == expected }
        let rejections = await counted()
        XCTAssertTrue(done, "\(rejections)")
        // Genuine heartbeats still flow, and nobody moved.
        for tick in 1...3 {
            let heard = await keepaliveHeard(by: backup)
            XCTAssertTrue(heard, "keepalive \(tick)")
        }
        let backupRole = await backup.statistics.role
        let primaryRole = await primary.statistics.role
        XCTAssertEqual(backupRole, .backup)
        XCTAssertEqual(primaryRole, .active)
        let changes = await backupLog.changes
        XCTAssertEqual(changes, [RoleChange(role: .backup, reason: .starting)])

        // Control: the same injection path with a genuine, fresh message that echoes the backup's nonce is obeyed
        // at once.
        try await send(Self.key.seal(stopping(sequence: ahead + 5, echo: backupNonce)))
        let obeyed = await eventually { await backup.statistics.role == .active }
        XCTAssertTrue(obeyed)

        try await fromPrimary.close()
        try await fromElsewhere.close()
        primaryTask.cancel()
        backupTask.cancel()
        try await primaryTask.value
        try await backupTask.value
    }

    /// A genuine message of the primary that does not echo the backup's nonce (captured before the backup started)
    /// is counted as notEchoed and moves nothing, though it asks the primary to stop: not the role, not the deadline
    /// (the lone backup takes over at deadtime after its start, as if nothing had arrived).
    func testAuthenticMessageNotEchoingTheNonceMovesNothing() async throws {
        let backup = try makeService(.backup)
        let log = RoleLog()
        let task = start(backup, log: log)
        let started = await eventually { await backup.statistics.sent > 0 }
        XCTAssertTrue(started)
        let sender = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.2", port: 0).get()
        let old = HeartbeatMessage(
            state: .stopping, configuredRole: .primary, senderID: PeerConfiguration.senderID(forAddress: "127.0.0.2")!,
            sequence: 5, bootID: 0x0AD, echo: 0x0BAD)
        try await sender.writeAndFlush(
            AddressedEnvelope(remoteAddress: try SocketAddress(ipAddress: "127.0.0.3", port: port), data: ByteBuffer(bytes: Self.key.seal(old)))
        ).get()
        let counted = await eventually { await backup.statistics.rejections[.notEchoed] == 1 }
        XCTAssertTrue(counted)
        var stats = await backup.statistics
        XCTAssertEqual(stats.role, .backup)
        XCTAssertEqual(stats.accepted, 0)
        XCTAssertFalse(stats.peerAlive)
        XCTAssertNil(stats.sinceHeard)

        clock.advance(by: deadtime - .milliseconds(1))
        let waiting = await sleeping(until: .zero.advanced(by: deadtime))
        XCTAssertTrue(waiting, "\(clock.deadlines)")
        stats = await backup.statistics
        XCTAssertEqual(stats.role, .backup, "a millisecond before deadtime")
        clock.advance(by: .milliseconds(1))
        let tookOver = await eventually { await log.changes.last == RoleChange(role: .active, reason: .peerDead) }
        XCTAssertTrue(tookOver, "at deadtime since its start")
        try await sender.close()
        task.cancel()
        try await task.value
    }

    func testBindsOnlyToItsOwnAddress() async throws {
        let service = try makeService(.primary)
        let task = start(service, log: RoleLog())
        let bound = await eventually { await service.statistics.sent > 0 }
        XCTAssertTrue(bound)
        let sockets = try shell("ss -Hunl 'sport = :\(port)'").output
        XCTAssertTrue(sockets.contains("127.0.0.2:\(port)"), sockets)
        XCTAssertFalse(sockets.contains("0.0.0.0:\(port)") || sockets.contains("*:\(port)"), sockets)
        task.cancel()
        try await task.value
    }

    func testUnbindableAddressIsAClearError() async throws {
        let peer = try PeerConfiguration(role: .primary, senderID: 1)
        // The director's spelling: HeartbeatService on ContinuousClock.
        let service = try HeartbeatService(
            configuration: .init(
                peer: peer, links: [HeartbeatLink(local: "192.0.2.77", peer: "192.0.2.78")], port: port,
                authentication: .none))
        do {
            try await service.run()
            XCTFail("binding to an address this host does not have must fail")
        } catch let error as HeartbeatServiceError {
            XCTAssertTrue("\(error)".contains("cannot bind the heartbeat socket to 192.0.2.77"), "\(error)")
        }
    }

    func testOneDeadLinkOfTwoCausesNoTakeover() async throws {
        // Link 0: 127.0.0.2 <-> 127.0.0.3. Link 1: 127.0.0.4 <-> 127.0.0.5, but the backup expects its peer at
        // 127.0.0.6 and sends there: link 1 carries nothing either way, as if its cable were cut.
        let (primary, primaryTask, backup, backupTask, backupLog) = try await startPair(
            links: (
                primary: [Self.link0.primary, HeartbeatLink(local: "127.0.0.4", peer: "127.0.0.5")],
                backup: [Self.link0.backup, HeartbeatLink(local: "127.0.0.5", peer: "127.0.0.6")]
            ))
        // Three deadtimes on one link only, every keepalive heard on it.
        for tick in 1...15 {
            let heard = await keepaliveHeard(by: backup)
            XCTAssertTrue(heard, "keepalive \(tick)")
        }
        // The receiver reports rejections in batches, on its event loop's own time.
        let rejected = await eventually { await backup.statistics.rejections[.unexpectedSource, default: 0] > 0 }
        XCTAssertTrue(rejected, "link 1's datagrams arrived from 'elsewhere'")
        let stats = await backup.statistics
        XCTAssertEqual(stats.role, .backup)
        XCTAssertEqual(stats.silentLinks, [1])
        XCTAssertTrue(stats.peerAlive)
        let primaryRole = await primary.statistics.role
        XCTAssertEqual(primaryRole, .active)
        let changes = await backupLog.changes
        XCTAssertEqual(changes, [RoleChange(role: .backup, reason: .starting)])
        primaryTask.cancel()
        backupTask.cancel()
        try await primaryTask.value
        try await backupTask.value
    }

    /// The first rejection after a quiet interval is logged at once; later ones wait for the flush timer, which runs
    /// on the service's clock: nothing at interval minus a millisecond, the sum at the interval.
    func testRejectionsAreLoggedAtOnceThenOncePerInterval() async throws {
        let lines = LogLines()
        let backup = try makeService(.backup, logger: Logger(label: "test") { _ in lines.handler() })
        let task = start(backup, log: RoleLog())
        let started = await eventually { await backup.statistics.sent > 0 }
        XCTAssertTrue(started)
        let group = MultiThreadedEventLoopGroup.singleton
        let sender = try await DatagramBootstrap(group: group).bind(host: "127.0.0.2", port: 0).get()
        let target = try SocketAddress(ipAddress: "127.0.0.3", port: port)
        func sendGarbage() async throws {
            try await sender.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(bytes: [1, 2, 3]))).get()
        }
        func rejectionLines() -> [String] { lines.messages.filter { $0.hasPrefix("heartbeat datagrams rejected") } }

        try await sendGarbage()
        let first = await eventually { rejectionLines().count == 1 }
        XCTAssertTrue(first, "\(lines.messages)")
        XCTAssertTrue(rejectionLines().first?.contains("1 wrongLength") ?? false, "\(rejectionLines())")
        clock.advance(by: .seconds(1))
        try await sendGarbage()
        try await sendGarbage()
        let counted = await eventually { await backup.statistics.rejections[.wrongLength] == 3 }
        XCTAssertTrue(counted)
        let flushAt = TestInstant.zero.advanced(by: .seconds(10))
        let scheduled = await sleeping(until: flushAt)
        XCTAssertTrue(scheduled, "a flush at the interval after the first line: \(clock.deadlines)")
        XCTAssertEqual(rejectionLines().count, 1, "the next two wait")

        clock.advance(by: .seconds(9) - .milliseconds(1))
        XCTAssertTrue(clock.deadlines.contains(flushAt), "a millisecond before the interval, the flush still sleeps")
        clock.advance(by: .milliseconds(1))
        XCTAssertFalse(clock.deadlines.contains(flushAt))
        let flushed = await eventually { rejectionLines().count == 2 }
        XCTAssertTrue(flushed, "\(lines.messages)")
        XCTAssertTrue(rejectionLines().last?.contains("2 wrongLength") ?? false, "\(rejectionLines())")
        try await sender.close()
        task.cancel()
        try await task.value
    }

    func testLinkCountMustMatch() {
        XCTAssertThrowsError(
            try HeartbeatService(
                configuration: .init(
                    peer: try PeerConfiguration(role: .primary, senderID: 1, linkCount: 2),
                    links: [HeartbeatLink(local: "127.0.0.2", peer: "127.0.0.3")], authentication: .none)))
    }
}

/// The messages logged through ``handler()``, in order.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])

    var messages: [String] { lines.withLock { $0 } }

    func handler() -> some LogHandler { Handler(lines: self) }

    private struct Handler: LogHandler {
        let lines: LogLines
        var logLevel = Logger.Level.trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) { lines.lines.withLock { $0.append("\(event.message)") } }
    }
}
