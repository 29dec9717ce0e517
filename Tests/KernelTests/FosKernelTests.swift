import Foundation
import TestSupport
import XCTest

/// `service = fos` for real: two `h2e-director run`s in the director namespaces of scripts/lib/topology.sh keep one
/// service on the VIP 10.0.0.10: a busybox httpd that `start_cmd` starts on the active director (serving that
/// director's name) and `stop_cmd` stops. There is no IPVS: the client reaches the httpd of whichever director holds
/// the VIP. One test walks through the issue's three cases in turn, so the cluster is built once:
/// 1. the service dies on the active director: the peer takes the VIP over and starts it there;
/// 2. kill -9 of the active director: the other one (still in its hold-down from case 1) takes over;
/// 3. a clean stop (SIGTERM) of the active director: stop_cmd runs there and the peer takes over at once.
final class FosKernelTests: FailoverClusterTestCase {
    static func configuration(directory: String) -> String {
        """
        serial_no = 1
        primary = 10.0.0.11
        service = fos
        backup_active = 1
        backup = 10.0.0.12
        heartbeat = 1
        heartbeat_port = 539
        keepalive = \(FailoverCluster.keepalive)
        deadtime = \(FailoverCluster.deadtime)
        heartbeat_key = \(directory)/heartbeat.key
        failover web {
            active = 1
            address = \(FailoverCluster.vip) eth0:1
            vip_nmask = 255.255.255.255
            port = 80
            send = "GET / HTTP/1.0\\r\\n\\r\\n"
            expect = "HTTP"
            timeout = 1
            start_cmd = "/bin/sh \(directory)/start.sh"
            stop_cmd = "/bin/sh \(directory)/stop.sh"
        }

        """
    }

    /// start.sh serves the director's name (found from its eth0 address) with a foreground httpd in the background,
    /// its pid in DIR/NAME.httpd.pid; stop.sh kills exactly that one (every namespace shares one pid space).
    static func scripts(directory: String) -> (start: String, stop: String) {
        let name = "if ip -4 -o addr show dev eth0 | grep -q ' 10.0.0.11/'; then n=lb1; else n=lb2; fi"
        return (
            """
            \(name)
            mkdir -p \(directory)/$n.www && echo $n > \(directory)/$n.www/index.html
            echo "starting httpd on $n (PATH=$PATH)"
            busybox httpd -f -p 80 -h \(directory)/$n.www </dev/null >/dev/null 2>&1 &
            echo $! > \(directory)/$n.httpd.pid

            """,
            """
            \(name)
            if [ -f \(directory)/$n.httpd.pid ]; then kill "$(cat \(directory)/$n.httpd.pid)" 2>/dev/null; fi
            rm -f \(directory)/$n.httpd.pid
            echo "stopped httpd on $n"

            """
        )
    }

    func testTheServiceMovesOnServiceFailureOnDirectorDeathAndOnCleanStop() async throws {
        let cluster = try FailoverCluster()
        self.cluster = cluster
        let directory = cluster.directory
        try Self.configuration(directory: directory).write(toFile: "\(directory)/lvs.cf", atomically: true, encoding: .utf8)
        let (start, stop) = Self.scripts(directory: directory)
        try start.write(toFile: "\(directory)/start.sh", atomically: true, encoding: .utf8)
        try stop.write(toFile: "\(directory)/stop.sh", atomically: true, encoding: .utf8)
        let check = try shell("\(cluster.director.path) check-config --config \(directory)/lvs.cf")
        XCTAssertEqual(check.status, 0, check.output)

        // An IPVS service someone else runs on lb1: fos mode leaves the kernel's table alone.
        try mustRun("ip netns exec lb1 ipvsadm -A -t 10.9.9.9:1 -s rr")

        // lb1 alone first: it becomes active, starts the service, and the client reaches it through the VIP.
        try cluster.start("lb1")
        let first = try await waitUntil(timeout: .seconds(20), interval: .milliseconds(200)) {
            try cluster.vipHolders() == ["lb1"] && cluster.fetch() == "lb1"
        }
        XCTAssertTrue(first, "lb1 did not serve through the VIP\n\(cluster.logs)")
        guard first else { return }
        try cluster.start("lb2")
        let paired = try await waitUntil(timeout: .seconds(15), interval: .milliseconds(200)) {
            try self.peerAlive(cluster, "lb2") && self.role(cluster, "lb2") == "backup"
        }
        XCTAssertTrue(paired, "lb2 did not become lb1's backup\n\(cluster.logs)")
        XCTAssertEqual(try service(cluster, "lb1")["runsHere"] as? Bool, true)
        XCTAssertEqual(try service(cluster, "lb2")["runsHere"] as? Bool, false)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/lb2.httpd.pid"), "the backup started the service")

        // 1. The service dies on lb1: its check fails, lb1 runs stop_cmd and steps down, lb2 takes over and starts it.
        try mustRun("kill $(cat \(directory)/lb1.httpd.pid)")
        var since = ContinuousClock.now
        let moved = try await waitUntil(timeout: .seconds(15), interval: .milliseconds(100)) {
            try cluster.vipHolders() == ["lb2"] && cluster.fetch(timeout: 0.5) == "lb2"
        }
        print("fos: service killed on lb1 -> served by lb2 after \(since.duration(to: .now))")
        XCTAssertTrue(moved, "the service did not move to lb2 (VIP on \(cluster.observed { try $0.vipHolders() }))\n\(cluster.logs)")
        let lb1 = try failover(cluster, "lb1")
        XCTAssertEqual(lb1["failed"] as? Bool, true, "lb1 does not count as failed: \(lb1)")
        let lb1Service = try service(cluster, "lb1")
        XCTAssertEqual(lb1Service["runsHere"] as? Bool, false)
        XCTAssertTrue((lb1Service["lastCheck"] as? String)?.hasPrefix("failed") ?? false, "\(lb1Service)")
        XCTAssertEqual((lb1Service["stop"] as? [String: Any])?["lastResult"] as? String, "ok", "\(lb1Service)")
        XCTAssertEqual(try self.role(cluster, "lb1"), "backup")
        let text = try mustRun("\(cluster.director.path) status --socket \(directory)/lb2.sock")
        XCTAssertTrue(text.contains("failover services: ok"), text)
        XCTAssertTrue(text.split(separator: "\n").contains { $0.hasPrefix("web ") && $0.contains(" running ") && $0.contains(" yes ") }, text)
        let lb2Start = try service(cluster, "lb2")["start"] as? [String: Any]
        XCTAssertEqual(lb2Start?["lastResult"] as? String, "ok")
        // The command ran with h2e's fixed environment, and its output was kept.
        XCTAssertEqual(lb2Start?["lastOutput"] as? String, "starting httpd on lb2 (PATH=/usr/sbin:/usr/bin:/sbin:/bin)\n")

        // 2. kill -9 of lb2 (and its httpd): lb1 takes over from the dead peer although its own failure is recent.
        try cluster.kill("lb2")
        since = ContinuousClock.now
        let back = try await waitUntil(timeout: .seconds(15), interval: .milliseconds(100)) {
            try cluster.vipHolders().contains("lb1") && cluster.fetch(timeout: 0.5) == "lb1"
        }
        print("fos: kill -9 of lb2 -> served by lb1 after \(since.duration(to: .now))")
        XCTAssertTrue(back, "lb1 did not take the service over from the dead lb2\n\(cluster.logs)")
        let recovered = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(200)) {
            try self.failover(cluster, "lb1")["failed"] as? Bool == false
        }
        XCTAssertTrue(recovered, "lb1's passing checks did not clear its failure: \(cluster.observed { try self.failover($0, "lb1") })")

        // 3. lb2 comes back as backup (removing the VIP its killed run left); a clean stop of lb1 hands over to it.
        try mustRun("rm -f \(directory)/lb2.httpd.pid")
        try cluster.start("lb2")
        let rejoined = try await waitUntil(timeout: .seconds(15), interval: .milliseconds(200)) {
            try cluster.vipHolders() == ["lb1"] && self.peerAlive(cluster, "lb2") && self.role(cluster, "lb2") == "backup"
        }
        XCTAssertEqual(
            (try service(cluster, "lb2")["stop"] as? [String: Any])?["runs"] as? Int, 1,
            "the restarted lb2 did not run stop_cmd once for what its killed run left behind")
        XCTAssertTrue(rejoined, "lb2 did not rejoin as backup (VIP on \(cluster.observed { try $0.vipHolders() }))\n\(cluster.logs)")
        let pid = try director(cluster, "lb1")["pid"] as? Int ?? 0
        XCTAssertGreaterThan(pid, 0)
        try mustRun("kill -TERM \(pid)")
        since = ContinuousClock.now
        let handedOver = try await waitUntil(timeout: .seconds(15), interval: .milliseconds(100)) {
            try cluster.vipHolders() == ["lb2"] && cluster.fetch(timeout: 0.5) == "lb2"
        }
        print("fos: SIGTERM to lb1 -> served by lb2 after \(since.duration(to: .now))")
        XCTAssertTrue(handedOver, "the clean stop of lb1 did not hand the service to lb2\n\(cluster.logs)")
        let exited = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(100)) {
            try shell("kill -0 \(pid)").status != 0
        }
        XCTAssertTrue(exited, "lb1's director did not exit on SIGTERM")
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: "\(directory)/lb1.httpd.pid"), "lb1 did not run stop_cmd on its clean stop\n\(cluster.log("lb1"))")
        XCTAssertTrue(cluster.log("lb1").contains("stop_cmd done"), cluster.log("lb1"))
        XCTAssertEqual(try self.role(cluster, "lb2"), "active")
        XCTAssertTrue(try mustRun("ip netns exec lb1 ipvsadm -Ln").contains("10.9.9.9:1"), "fos mode touched the IPVS table")
    }

    // MARK: status --json

    /// The whole report, or an empty one while the daemon does not answer (starting, stopped): for polling.
    private func report(_ cluster: FailoverCluster, _ name: String) throws -> [String: Any] {
        let result = try shell("\(cluster.director.path) status --json --socket \(cluster.directory)/\(name).sock")
        guard result.status == 0 else { return [:] }
        return (try? JSONSerialization.jsonObject(with: Data(result.output.utf8))) as? [String: Any] ?? [:]
    }

    private func director(_ cluster: FailoverCluster, _ name: String) throws -> [String: Any] {
        try report(cluster, name)["director"] as? [String: Any] ?? [:]
    }

    private func role(_ cluster: FailoverCluster, _ name: String) throws -> String {
        try director(cluster, name)["role"] as? String ?? "(no answer)"
    }

    private func failover(_ cluster: FailoverCluster, _ name: String) throws -> [String: Any] {
        try report(cluster, name)["failover"] as? [String: Any] ?? [:]
    }

    private func service(_ cluster: FailoverCluster, _ name: String) throws -> [String: Any] {
        (try failover(cluster, name)["services"] as? [[String: Any]])?.first ?? [:]
    }

    private func peerAlive(_ cluster: FailoverCluster, _ name: String) throws -> Bool {
        (try director(cluster, name)["peer"] as? [String: Any])?["alive"] as? Bool ?? false
    }
}
