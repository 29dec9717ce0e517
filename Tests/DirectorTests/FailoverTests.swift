import Director
import Foundation
import TestSupport
import XCTest

/// Two real directors, each in its own network namespace, joined by a veth pair that carries the heartbeat
/// (HMAC-SHA256) and holds the VIP: the primary takes the VIP, the backup takes over when the primary stops,
/// and a restarted primary stays backup (no failback).
final class FailoverTests: XCTestCase {
    var lb1: DaemonFixture!
    var lb2: DaemonFixture!
    var namespaces: [String] = []
    var keyPath = ""

    override func setUp() async throws {
        try DaemonFixture.requirements()
        let id = String(UUID().uuidString.prefix(6)).lowercased()
        namespaces = ["h2elb1\(id)", "h2elb2\(id)"]
        let setup = """
            ip netns add \(namespaces[0]) && ip netns add \(namespaces[1]) && \
            ip -n \(namespaces[0]) link set lo up && ip -n \(namespaces[1]) link set lo up && \
            ip -n \(namespaces[0]) link add hb0 type veth peer name hb0 netns \(namespaces[1]) && \
            ip -n \(namespaces[0]) addr add 192.168.77.1/24 dev hb0 && ip -n \(namespaces[1]) addr add 192.168.77.2/24 dev hb0 && \
            ip -n \(namespaces[0]) link set hb0 up && ip -n \(namespaces[1]) link set hb0 up
            """
        let result = try shell(setup)
        guard result.status == 0 else {
            tearDownNamespaces()
            throw FixtureError("network setup failed: \(result.output)")
        }
        lb1 = try DaemonFixture(namespace: namespaces[0])
        lb2 = try DaemonFixture(namespace: namespaces[1])
        keyPath = lb1.directory + "/heartbeat.key"
        try "0123456789abcdef0123456789abcdef\n".write(toFile: keyPath, atomically: true, encoding: .utf8)
        chmod(keyPath, 0o600)
        let configuration = lb1.configuration(
            extraGlobal: """
                heartbeat = 1
                backup_active = 1
                primary = 192.168.77.1
                backup = 192.168.77.2
                keepalive = 1
                deadtime = 3
                heartbeat_key = \(keyPath)
                """
        ).replacing("address = 10.0.0.10 vip0:1", with: "address = 192.168.77.100 hb0:1")
        try lb1.writeConfiguration(configuration)
        try lb2.writeConfiguration(configuration)
    }

    override func tearDown() async throws {
        lb1?.stop()
        lb2?.stop()
        tearDownNamespaces()
    }

    private func tearDownNamespaces() {
        for namespace in namespaces { _ = try? shell("ip netns del \(namespace)") }
    }

    func holdsVIP(_ fixture: DaemonFixture) -> Bool {
        (try? fixture.inNamespace("ip -4 addr show dev hb0"))?.output.contains("192.168.77.100/32") == true
    }

    func role(_ fixture: DaemonFixture) async -> String? {
        try? await fixture.status().director.role
    }

    func testPrimaryTakesTheVIPBackupTakesOverOnStopAndThereIsNoFailback() async throws {
        try await lb1.start(metrics: false)
        try await lb2.start(metrics: false)
        let settled = await waitUntil(timeout: .seconds(15)) {
            let r1 = await self.role(self.lb1)
            let r2 = await self.role(self.lb2)
            let peer = try? await self.lb2.status().director.peer?.state
            return r1 == "active" && r2 == "backup" && peer == "active"
        }
        XCTAssertTrue(settled, "lb1 active, lb2 backup:\n\(lb1.log)\n\(lb2.log)")
        let s1 = try await lb1.status()
        XCTAssertEqual(s1.director.configuredRole, "primary")
        XCTAssertFalse(s1.director.standalone)
        XCTAssertEqual(s1.director.peer?.configuredRole, "backup")
        let vipOnPrimary = await waitUntil(timeout: .seconds(5)) { self.holdsVIP(self.lb1) }
        XCTAssertTrue(vipOnPrimary)
        XCTAssertFalse(holdsVIP(lb2))
        let backupTable = try await lb2.table()
        XCTAssertEqual(backupTable.weights.count, 2, "the backup programs the same IPVS table")

        let stopped = ContinuousClock.now
        let code = try await lb1.terminate()
        XCTAssertEqual(code, 0)
        let tookOver = await waitUntil(timeout: .seconds(10)) { await self.role(self.lb2) == "active" }
        XCTAssertTrue(tookOver, lb2.log)
        XCTAssertLessThan(stopped.duration(to: .now), .seconds(3), "a graceful stop hands over before deadtime")
        let s2 = try await lb2.status()
        XCTAssertEqual(s2.director.roleReason, "the peer is shutting down")
        XCTAssertEqual(s2.director.failovers, 1)
        let peerSilent = await waitUntil(timeout: .seconds(5)) {
            (try? await self.lb2.status().director.peer?.alive) == false
        }
        let peerAfterStop = try await lb2.status().director.peer
        XCTAssertTrue(peerSilent, "status shows the stopped peer as silent: \(String(describing: peerAfterStop))")
        let vipMoved = await waitUntil(timeout: .seconds(5)) { self.holdsVIP(self.lb2) }
        XCTAssertTrue(vipMoved)
        XCTAssertFalse(holdsVIP(lb1), "the stopped director gave the VIP up")

        try await lb1.start(metrics: false)
        let rejoined = await waitUntil(timeout: .seconds(10)) {
            (try? await self.lb1.status().director.peer?.state) == "active"
        }
        XCTAssertTrue(rejoined)
        // No failback is the absence of a change: watch for longer than deadtime (3 s).
        try await Task.sleep(for: .seconds(4))
        let r1 = await role(lb1)
        let r2 = await role(lb2)
        XCTAssertEqual(r1, "backup", "no failback")
        XCTAssertEqual(r2, "active")
    }
}

extension FailoverTests {
    /// kill -9: the backup waits for deadtime, then takes over; the killed primary's VIP stays behind until it
    /// restarts, and the restart removes it (it starts as backup and the peer is active).
    func testACrashedPrimaryIsReplacedAfterDeadtimeAndItsLeftoverVIPRemovedOnRestart() async throws {
        try await lb1.start(metrics: false)
        try await lb2.start(metrics: false)
        let settled = await waitUntil(timeout: .seconds(15)) {
            let r1 = await self.role(self.lb1)
            let r2 = await self.role(self.lb2)
            return r1 == "active" && r2 == "backup" && self.holdsVIP(self.lb1)
        }
        XCTAssertTrue(settled, "\(lb1.log)\n\(lb2.log)")

        let crashed = ContinuousClock.now
        lb1.crash()
        let tookOver = await waitUntil(timeout: .seconds(10)) { await self.role(self.lb2) == "active" }
        let elapsed = crashed.duration(to: .now)
        XCTAssertTrue(tookOver, lb2.log)
        // Deadtime counts from the last heartbeat heard, up to one keepalive (1 s) before the kill.
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(1500), "the backup waited for the silence (deadtime 3 s)")
        let reason = try await lb2.status().director.roleReason
        XCTAssertEqual(reason, "no heartbeat from the peer on any link within deadtime")
        let vipOnBackup = await waitUntil(timeout: .seconds(5)) { self.holdsVIP(self.lb2) }
        XCTAssertTrue(vipOnBackup)
        XCTAssertTrue(holdsVIP(lb1), "kill -9 left the VIP behind on the primary")

        try await lb1.start(metrics: false)
        let cleaned = await waitUntil(timeout: .seconds(10)) { !self.holdsVIP(self.lb1) }
        XCTAssertTrue(cleaned, "the restarted primary removed its leftover VIP: \(lb1.log)")
        let r1 = await role(lb1)
        XCTAssertEqual(r1, "backup")
    }
}
