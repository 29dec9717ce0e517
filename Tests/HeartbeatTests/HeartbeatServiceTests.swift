import HostSystem
import Foundation
import NIOCore
import NIOPosix
import XCTest

@testable import Heartbeat

/// Collects a service's role changes.
actor RoleLog {
    private(set) var changes: [RoleChange] = []
    func append(_ change: RoleChange) { changes.append(change) }
}

/// Two heartbeat services on loopback addresses (127.0.0.2 primary, 127.0.0.3 backup) talking real UDP.
final class HeartbeatServiceTests: XCTestCase {
    static let key = HeartbeatAuthentication.hmacSHA256(key: Array("loopback test key, 32 bytes long".utf8))
    let keepalive = Duration.milliseconds(100)
    let deadtime = Duration.milliseconds(500)
    let primaryBoot: UInt64 = 0x1111
    var port = 0

    override func setUp() {
        // A port of our own, shared by both directors (as in lvs.cf), unlikely to collide with other test runs.
        port = 20_000 + Int(getpid()) % 20_000
    }

    func makeService(_ role: ConfiguredRole, boot: UInt64? = nil) throws -> HeartbeatService {
        let (local, peer) = role == .primary ? ("127.0.0.2", "127.0.0.3") : ("127.0.0.3", "127.0.0.2")
        let peerConfiguration = try PeerConfiguration(
            role: role, senderID: PeerConfiguration.senderID(forAddress: local)!, keepalive: keepalive,
            deadtime: deadtime)
        return try HeartbeatService(
            configuration: .init(
                peer: peerConfiguration, links: [HeartbeatLink(local: local, peer: peer)], port: port,
                authentication: Self.key),
            bootID: boot ?? .random(in: 1...UInt64.max))
    }

    /// Runs a service and its role log; returns the run task.
    func start(_ service: HeartbeatService, log: RoleLog) -> Task<Void, any Error> {
        Task { for await change in service.roleChanges { await log.append(change) } }
        return Task { try await service.run() }
    }

    func startPair() async throws -> (HeartbeatService, Task<Void, any Error>, HeartbeatService, Task<Void, any Error>, RoleLog) {
        let primary = try makeService(.primary, boot: primaryBoot)
        let backup = try makeService(.backup)
        let backupLog = RoleLog()
        let primaryTask = start(primary, log: RoleLog())
        let backupTask = start(backup, log: backupLog)
        let settled = await eventually {
            let p = await primary.statistics
            let b = await backup.statistics
            return p.role == .active && b.role == .backup && b.accepted > 0 && p.accepted > 0
        }
        let (p, b) = (await primary.statistics, await backup.statistics)
        XCTAssertTrue(settled, "primary \(p), backup \(b)")
        return (primary, primaryTask, backup, backupTask, backupLog)
    }

    func testBackupTakesOverWhenPrimaryDies() async throws {
        let (primary, primaryTask, backup, backupTask, backupLog) = try await startPair()
        await primary.simulateCrashOnExit()
        primaryTask.cancel()
        try await primaryTask.value
        let tookOver = await eventually(timeout: deadtime + .seconds(2)) { await backup.statistics.role == .active }
        XCTAssertTrue(tookOver)
        let changes = await backupLog.changes
        XCTAssertEqual(changes.first, RoleChange(role: .backup, reason: .starting))
        XCTAssertEqual(changes.last, RoleChange(role: .active, reason: .peerDead))
        backupTask.cancel()
        try await backupTask.value
    }

    func testGracefulStopHandsOverAtOnce() async throws {
        let (_, primaryTask, backup, backupTask, backupLog) = try await startPair()
        primaryTask.cancel()
        try await primaryTask.value
        // The log follows the role changes stream, a moment after the statistics: wait for it.
        let tookOver = await eventually(timeout: deadtime + .seconds(2)) { await backupLog.changes.last?.role == .active }
        XCTAssertTrue(tookOver)
        let last = await backupLog.changes.last
        XCTAssertEqual(last, RoleChange(role: .active, reason: .peerStopping), "not by waiting for deadtime")
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
        let before = await backup.statistics.accepted
        let flowing = await eventually { await backup.statistics.accepted > before + 2 }
        XCTAssertTrue(flowing)
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
    /// is counted as notEchoed and moves nothing, though it asks the primary to stop.
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
        let stats = await backup.statistics
        XCTAssertEqual(stats.role, .backup)
        XCTAssertEqual(stats.accepted, 0)
        XCTAssertFalse(stats.peerAlive)
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
        func service(_ role: ConfiguredRole, links: [HeartbeatLink]) throws -> HeartbeatService {
            try HeartbeatService(
                configuration: .init(
                    peer: try PeerConfiguration(
                        role: role, senderID: role == .primary ? 1 : 2, keepalive: keepalive, deadtime: deadtime,
                        linkCount: 2),
                    links: links, port: port, authentication: Self.key))
        }
        let primary = try service(
            .primary, links: [HeartbeatLink(local: "127.0.0.2", peer: "127.0.0.3"), HeartbeatLink(local: "127.0.0.4", peer: "127.0.0.5")])
        let backup = try service(
            .backup, links: [HeartbeatLink(local: "127.0.0.3", peer: "127.0.0.2"), HeartbeatLink(local: "127.0.0.5", peer: "127.0.0.6")])
        let backupLog = RoleLog()
        let primaryTask = start(primary, log: RoleLog())
        let backupTask = start(backup, log: backupLog)
        // Three deadtimes on one link only.
        let waited = await eventually(timeout: .seconds(10)) { await backup.statistics.accepted >= 15 }
        XCTAssertTrue(waited)
        let stats = await backup.statistics
        XCTAssertEqual(stats.role, .backup)
        XCTAssertEqual(stats.silentLinks, [1])
        XCTAssertGreaterThan(stats.rejections[.unexpectedSource] ?? 0, 0, "link 1's datagrams arrived from 'elsewhere'")
        let primaryRole = await primary.statistics.role
        XCTAssertEqual(primaryRole, .active)
        let changes = await backupLog.changes
        XCTAssertEqual(changes, [RoleChange(role: .backup, reason: .starting)])
        primaryTask.cancel()
        backupTask.cancel()
        try await primaryTask.value
        try await backupTask.value
    }

    func testLinkCountMustMatch() {
        XCTAssertThrowsError(
            try HeartbeatService(
                configuration: .init(
                    peer: try PeerConfiguration(role: .primary, senderID: 1, linkCount: 2),
                    links: [HeartbeatLink(local: "127.0.0.2", peer: "127.0.0.3")], authentication: .none)))
    }
}
