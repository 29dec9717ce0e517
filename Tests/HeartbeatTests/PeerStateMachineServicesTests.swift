import XCTest

@testable import Heartbeat

/// `service = fos`: failed failover services make a director unfit in the heartbeat (``PeerStateMachine/servicesChanged(failed:now:)``).
final class PeerStateMachineServicesTests: XCTestCase {
    func config(_ role: ConfiguredRole, id: UInt64) -> Machine.Configuration {
        try! Machine.Configuration(role: role, senderID: id, keepalive: .seconds(1), deadtime: .seconds(3), linkCount: 1)
    }

    func pairWithPrimaryActive() -> DirectorPair {
        var pair = DirectorPair(config(.primary, id: 1), config(.backup, id: 2))
        pair.start(0)
        pair.start(1)
        pair.run(for: .seconds(5))
        XCTAssertEqual(pair.role(0), .active)
        XCTAssertEqual(pair.role(1), .backup)
        return pair
    }

    func testActiveWhoseServicesFailHandsOverAtOnceAndDoesNotTakeThemBack() {
        var pair = pairWithPrimaryActive()
        let failedAt = pair.now
        pair.setServicesFailed(0, true)
        XCTAssertEqual(pair.role(0), .backup)
        XCTAssertEqual(pair.role(1), .active)
        let changes = pair.history.filter { $0.0 == failedAt }.map { "\($0.1) \($0.2) \($0.3)" }
        XCTAssertEqual(
            changes, ["0 backup \(RoleChangeReason.ownServicesFailed)", "1 active \(RoleChangeReason.peerUnfit)"])
        XCTAssertFalse(pair.machines[0]!.fit)
        XCTAssertTrue(pair.machines[0]!.linksUp)
        // Its failure ends (the hold-down is the caller's): fit again, but no failback from a fit active peer.
        pair.setServicesFailed(0, false)
        pair.run(for: .seconds(20))
        XCTAssertEqual(pair.role(0), .backup)
        XCTAssertEqual(pair.role(1), .active)
    }

    func testDirectorWithFailedServicesStillTakesOverFromADeadPeer() {
        var pair = pairWithPrimaryActive()
        pair.setServicesFailed(0, true)
        XCTAssertEqual(pair.role(1), .active)
        pair.crash(1)
        pair.run(for: .seconds(4))
        XCTAssertEqual(pair.role(0), .active, "trying the service again beats running it nowhere")
        XCTAssertEqual(pair.history.last?.3, .peerDead)
    }

    func testWhenBothFailedTheActiveKeepsTheVIPs() {
        var pair = pairWithPrimaryActive()
        pair.setServicesFailed(0, true)
        XCTAssertEqual(pair.role(1), .active)
        pair.setServicesFailed(1, true)
        let before = pair.now
        pair.run(for: .seconds(60))
        XCTAssertEqual(pair.changes(after: before), 0, "no ping-pong between two failed directors: \(pair.history)")
        XCTAssertEqual(pair.role(1), .active)
        XCTAssertEqual(pair.role(0), .backup)
    }

    func testBothFailedAndBackupOnlyTheHigherRankedTakesOver() {
        // The backup runs alone and its services fail; then the primary starts and fails before deadtime. (A peer
        // that is fit when it first hears an unfit one takes over at once: the heartbeat answers a new session at
        // once, so the order matters.)
        var pair = DirectorPair(config(.primary, id: 1), config(.backup, id: 2))
        pair.start(1)
        pair.setServicesFailed(1, true)
        pair.run(for: .seconds(1))
        pair.start(0)
        pair.setServicesFailed(0, true)
        pair.run(for: .seconds(10))
        XCTAssertEqual(pair.role(0), .active)
        XCTAssertEqual(pair.role(1), .backup)
        let activations = pair.history.filter { $0.2 == .active }
        XCTAssertEqual(activations.count, 1, "\(pair.history)")
        XCTAssertEqual(activations.first?.3, .peerUnfit)
    }

    func testServicesChangeIsAnnouncedAtOnceEvenWithoutARoleChange() {
        var m = Machine(configuration: config(.backup, id: 2))
        _ = m.start(now: .zero)
        XCTAssertEqual(
            m.servicesChanged(failed: true, now: .seconds(0.5)).first, .sendHeartbeat(.backup, fit: false))
        XCTAssertEqual(m.servicesChanged(failed: true, now: .seconds(0.6)), [], "no change, nothing to say")
    }
}
