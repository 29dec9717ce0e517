import Director
import Foundation
import TestSupport
import XCTest

/// The daemon for real: a process in a network namespace, the control socket, overrides on disk, SIGHUP, the
/// status page and metrics over loopback (curl), VIP takeover on a dummy interface. IPVS is the in-memory backend
/// (this host's kernel has none; Tests/KernelTests/Director* cover the netlink side in the VM).
final class DaemonTests: XCTestCase {
    var fixture: DaemonFixture!

    override func setUp() async throws {
        try DaemonFixture.requirements()
        fixture = try DaemonFixture()
    }

    override func tearDown() async throws {
        fixture?.stop()
    }

    let web1 = "TCP 10.0.0.10:80 127.0.0.2:80"
    let web2 = "TCP 10.0.0.10:80 127.0.0.3:80"

    func testStatusOverridesAndTheirPersistenceAcrossARestart() async throws {
        try fixture.writeConfiguration(fixture.configuration())
        try await fixture.start()
        let status = try await fixture.status()
        XCTAssertEqual(status.director.role, "active")
        XCTAssertTrue(status.director.standalone)
        XCTAssertEqual(status.virtuals.map(\.name), ["web"])
        XCTAssertEqual(status.virtuals.first?.service, "TCP 10.0.0.10:80")
        XCTAssertEqual(status.ipvs.backend, "memory")

        var info = stat()
        XCTAssertEqual(stat(fixture.socket, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600, "the control socket is private")

        let up = await waitUntil(timeout: .seconds(10)) {
            let s = try? await self.fixture.status()
            return s?.server("web", "web1")?.health == "up" && s?.server("web", "web2")?.health == "up"
        }
        XCTAssertTrue(up, "both servers pass their checks")
        let checked = try await fixture.status().server("web", "web1")
        XCTAssertEqual(checked?.lastCheck, "passed", "status shows the last check")
        XCTAssertLessThan(checked?.lastCheckAgeSeconds ?? 99, 10, "and how long ago it was")

        let drain = try fixture.cli(["server", "drain", "web", "127.0.0.2", "--socket", fixture.socket])
        XCTAssertEqual(drain.status, 0, drain.output)
        XCTAssertEqual(drain.output, "web 127.0.0.2: drain (until up)\n")
        var table = try await fixture.table()
        XCTAssertEqual(table.weights[web1], 0)
        let bad = try fixture.cli(["server", "down", "web", "192.0.2.7", "--socket", fixture.socket])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.output.contains("virtual server web has no real server 192.0.2.7"), bad.output)

        let saved = try String(contentsOfFile: fixture.stateDirectory + "/overrides.json", encoding: .utf8)
        XCTAssertTrue(saved.contains("\"action\" : \"drain\""), saved)

        let text = try fixture.cli(["status", "--socket", fixture.socket])
        XCTAssertEqual(text.status, 0)
        XCTAssertTrue(text.output.hasPrefix("role active (standalone)"), text.output)
        XCTAssertTrue(text.output.contains("weight 0: drained by the operator"), text.output)
        let json = try fixture.cli(["status", "--json", "--socket", fixture.socket])
        let decoded = try JSONDecoder().decode(StatusReport.self, from: Data(json.output.utf8))
        XCTAssertEqual(decoded.server("web", "web1")?.override, "drain")
        XCTAssertEqual(decoded.server("web", "web1")?.weight, 0)

        let code = try await fixture.terminate()
        XCTAssertEqual(code, 0, fixture.log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.socket), "the socket is removed on stop")

        try await fixture.start()
        let restored = try await fixture.status()
        XCTAssertEqual(restored.server("web", "web1")?.override, "drain", "the override survived the restart")
        table = try await fixture.table()
        XCTAssertEqual(table.weights[web1], 0)
        let upResult = try fixture.cli(["server", "up", "web", "127.0.0.2", "--socket", fixture.socket])
        XCTAssertEqual(upResult.output, "web 127.0.0.2: drain cleared, health checks decide\n")
        table = try await fixture.table()
        XCTAssertNotEqual(table.weights[web1], 0)
    }

    func testHealthChecksAndLoadFeedbackDriveTheTable() async throws {
        try fixture.mark("load-127.0.0.2", "2.0\n")
        try fixture.mark("load-127.0.0.3", "0.5\n")
        try fixture.writeConfiguration(fixture.configuration())
        try await fixture.start()
        let weighted = await waitUntil(timeout: .seconds(15)) {
            guard let s = try? await self.fixture.status(), let w1 = s.server("web", "web1"), let w2 = s.server("web", "web2")
            else { return false }
            return (w1.weight ?? 32) < 32 && (w2.weight ?? 16) > 16
        }
        let status = try await fixture.status()
        XCTAssertTrue(weighted, "weights follow load: \(status.virtuals)")
        let w1 = try XCTUnwrap(status.server("web", "web1"))
        XCTAssertTrue(w1.reason.contains("load 2.00/cpu"), w1.reason)
        XCTAssertEqual(w1.load, 2.0)
        XCTAssertNotNil(w1.loadAgeSeconds)
        var table = try await fixture.table()
        XCTAssertEqual(table.weights[web1], w1.weight)

        try fixture.mark("down-127.0.0.3")
        let removed = await waitUntil(timeout: .seconds(10)) { (try? await self.fixture.table())?.weights[self.web2] == nil }
        XCTAssertTrue(removed, "a failing server leaves the table")
        let down = try await fixture.status()
        XCTAssertEqual(down.server("web", "web2")?.health, "down")
        XCTAssertEqual(down.server("web", "web2")?.reason, "removed: health check failed: send_program exit status 1")
        try fixture.mark("down-127.0.0.3", nil)
        let back = await waitUntil(timeout: .seconds(10)) { (try? await self.fixture.table())?.weights[self.web2] != nil }
        XCTAssertTrue(back, "it comes back after reentry (0 here)")
        table = try await fixture.table()
        XCTAssertLessThan(table.weights[web2] ?? 99, 16, "readmitted servers start slowly")
        XCTAssertTrue(fixture.log.contains("[inactive] shutting down 127.0.0.3:80"), fixture.log)
    }

    func testSIGHUPKeepsRunningConfigurationOnErrorsAndAppliesAGoodOneAsADiff() async throws {
        try fixture.writeConfiguration(fixture.configuration())
        try await fixture.start()
        let ready = await waitUntil(timeout: .seconds(10)) { (try? await self.fixture.table())?.weights[self.web2] == 16 }
        XCTAssertTrue(ready)

        try fixture.writeConfiguration(fixture.configuration().replacing("scheduler = wlc", with: "scheduler = wlc\n    bogus_keyword = 1"))
        fixture.signal(SIGHUP)
        let rejected = await waitUntil(timeout: .seconds(10)) { (try? await self.fixture.status())?.director.reloadError != nil }
        XCTAssertTrue(rejected)
        let error = try await fixture.status().director.reloadError ?? ""
        XCTAssertTrue(error.hasPrefix(fixture.configPath + ":"), error)
        XCTAssertNotNil(error.range(of: #":[0-9]+:[0-9]+: "#, options: .regularExpression), "FILE:LINE:COLUMN: \(error)")
        XCTAssertTrue(fixture.log.contains("keeping the running configuration"), fixture.log)
        var table = try await fixture.table()
        XCTAssertEqual(table.weights[web2], 16, "the running configuration stays")

        try fixture.writeConfiguration(fixture.configuration(web2Weight: 24))
        fixture.signal(SIGHUP)
        let applied = await waitUntil(timeout: .seconds(10)) { (try? await self.fixture.table())?.weights[self.web2] == 24 }
        XCTAssertTrue(applied, fixture.log)
        let status = try await fixture.status()
        XCTAssertNil(status.director.reloadError)
        table = try await fixture.table()
        XCTAssertEqual(table.weights[web1], 32, "unchanged server untouched")
        XCTAssertTrue(fixture.log.contains("ipvs: set weight 16 -> 24 for 127.0.0.3:80 in TCP 10.0.0.10:80"), fixture.log)
    }

    func testMetricsStatusPageAndVIPOverLoopback() async throws {
        try fixture.writeConfiguration(fixture.configuration())
        try await fixture.start()
        let vip = await waitUntil(timeout: .seconds(10)) {
            (try? self.fixture.inNamespace("ip -4 addr show dev vip0"))?.output.contains("10.0.0.10/32") == true
        }
        XCTAssertTrue(vip, "the standalone director holds the VIP")
        let port = fixture.metricsPort
        let metrics = try fixture.inNamespace("curl -sS -i http://127.0.0.1:\(port)/metrics")
        XCTAssertEqual(metrics.status, 0, metrics.output)
        XCTAssertTrue(metrics.output.contains("Content-Type: text/plain; version=0.0.4"), metrics.output)
        XCTAssertTrue(metrics.output.contains("\nh2e_director_active 1\n"), metrics.output)
        XCTAssertTrue(metrics.output.contains("\nh2e_netlink_errors_total 0\n"), metrics.output)
        XCTAssertTrue(
            metrics.output.contains(#"h2e_ipvs_destination_weight{server="127.0.0.2:80",service="TCP 10.0.0.10:80"} 32"#),
            metrics.output)
        let checked = await waitUntil(timeout: .seconds(10)) {
            let text = (try? self.fixture.inNamespace("curl -sS http://127.0.0.1:\(port)/metrics"))?.output ?? ""
            return text.contains("h2e_health_checks_total") && !text.contains("h2e_health_checks_total 0\n")
        }
        XCTAssertTrue(checked, "check counter moves")

        let page = try fixture.inNamespace("curl -sS http://127.0.0.1:\(port)/")
        XCTAssertTrue(page.output.contains("<title>h2e-director: active</title>"), page.output)
        XCTAssertTrue(page.output.contains("<td>web1</td><td>127.0.0.2:80</td>"), page.output)
        let json = try fixture.inNamespace("curl -sS http://127.0.0.1:\(port)/status.json")
        XCTAssertEqual(try JSONDecoder().decode(StatusReport.self, from: Data(json.output.utf8)).director.role, "active")
        let post = try fixture.inNamespace("curl -sS -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:\(port)/")
        XCTAssertEqual(post.output, "405")

        let code = try await fixture.terminate()
        XCTAssertEqual(code, 0)
        let gone = try fixture.inNamespace("ip -4 addr show dev vip0")
        XCTAssertFalse(gone.output.contains("10.0.0.10"), "the VIP is given up on stop: \(gone.output)")
    }

    func testRemoteMetricsAddressIsRefusedAndBrokenConfigurationStopsTheStart() throws {
        try fixture.writeConfiguration(fixture.configuration())
        let remote = try fixture.cli(["run", "--config", fixture.configPath, "--socket", fixture.socket, "--ipvs", "memory", "--metrics", "0.0.0.0:9110"])
        XCTAssertNotEqual(remote.status, 0)
        XCTAssertTrue(remote.output.contains("not a loopback address"), remote.output)

        try fixture.writeConfiguration("virtual web {\n    active = maybe\n}\n")
        let broken = try fixture.cli(["run", "--config", fixture.configPath, "--socket", fixture.socket, "--ipvs", "memory"])
        XCTAssertEqual(broken.status, 1)
        XCTAssertTrue(broken.output.hasPrefix(fixture.configPath + ":2:"), broken.output)
        let apply = try fixture.cli(["apply", "--dry-run", "--config", fixture.configPath])
        XCTAssertEqual(apply.status, 1)
        XCTAssertTrue(apply.output.hasPrefix(fixture.configPath + ":2:"), apply.output)
    }
}

extension DaemonTests {
    /// `load_monitor = h2e` against real h2e-agents (one per real server, on its address in the namespace). web1's
    /// block names the id its agent reports (`server_id = web1`) and its load is used; web2's names another
    /// (`server_id = web9`, its agent says web2), so its answers are refused and its weight stays the configured one.
    /// The weight interval is 30 s: both verdicts come from the first round, which is asked as soon as the servers are
    /// in the table, not an interval after the start.
    func testLoadFromRealAgentsAndTheServerIDCheck() async throws {
        let agent = URL(fileURLWithPath: DaemonFixture.binary).deletingLastPathComponent().appendingPathComponent("h2e-agent").path
        guard FileManager.default.isExecutableFile(atPath: agent) else {
            throw unavailable("needs \(agent): swift build first")
        }
        var agents: [Process] = []
        defer { for process in agents where process.isRunning { process.terminate(); process.waitUntilExit() } }
        for (name, address) in [("web1", "127.0.0.2"), ("web2", "127.0.0.3")] {
            let dir = fixture.directory + "/agent-" + name
            let sample = try fixture.inNamespace("\(agent) sample --dir \(dir) --server-id \(name)")
            XCTAssertEqual(sample.status, 0, sample.output)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            process.arguments = ["netns", "exec", fixture.namespace, agent, "serve", "--dir", dir, "--server-id", name, "--listen", "\(address):18181"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            agents.append(process)
        }
        let serving = await waitUntil(timeout: .seconds(10)) {
            (try? self.fixture.inNamespace("curl -sf http://127.0.0.3:18181/load.json"))?.status == 0
        }
        XCTAssertTrue(serving)
        let text = fixture.configuration(extraGlobal: "agent_port = 18181")
            .replacing("weight_interval = 1\n", with: "weight_interval = 30\n")
            .replacing("load_monitor = \(fixture.directory)/load", with: "load_monitor = h2e")
            .replacing("address = 127.0.0.2\n", with: "address = 127.0.0.2\n        server_id = web1\n")
            .replacing("address = 127.0.0.3\n", with: "address = 127.0.0.3\n        server_id = web9\n")
        try fixture.writeConfiguration(text)
        try await fixture.start()
        let answered = await waitUntil(timeout: .seconds(15)) {
            let s = try? await self.fixture.status()
            return s?.server("web", "web1")?.load != nil && s?.server("web", "web2")?.loadError != nil
        }
        let status = try await fixture.status()
        XCTAssertTrue(answered, "web1's load, web2's refusal: \(status.virtuals)")
        let web1 = try XCTUnwrap(status.server("web", "web1"))
        XCTAssertEqual(status.virtuals.first?.loadMonitor, "h2e")
        XCTAssertEqual(web1.agentURL, "http://127.0.0.2:18181/")
        XCTAssertNil(web1.loadError)
        // A live agent's figure ("live load 0.43 (1 s) vs ..."), or a load average's ("load 1.70/cpu vs ...").
        XCTAssertTrue(web1.reason.contains("live load") || web1.reason.contains("/cpu"), web1.reason)
        let web2 = try XCTUnwrap(status.server("web", "web2"))
        XCTAssertNil(web2.load, "no answer from web2's agent is used")
        XCTAssertEqual(
            web2.loadError, "answer from server \"web2\" instead of \"web9\": check the real server address, the agent port and its server_id")
        XCTAssertEqual(web2.weight, web2.configuredWeight, "never a usable load: the configured weight")
        let metrics = try fixture.inNamespace("curl -sf http://127.0.0.1:\(fixture.metricsPort)/metrics")
        XCTAssertTrue(metrics.output.contains(#"h2e_load_failures_total{kind="wrong_server"} "#), metrics.output)
    }
}
