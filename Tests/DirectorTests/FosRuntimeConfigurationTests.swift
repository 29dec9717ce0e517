import Heartbeat
import LVSConfig
import XCTest

@testable import Director

/// `service = fos` turned into the daemon's plans, and how status and metrics show the failover services.
final class FosRuntimeConfigurationTests: XCTestCase {
    static let fos = """
        service = fos
        primary = 192.168.77.1
        virtual ignored {
            active = 1
            address = 192.168.77.200 eth0:2
        }
        failover web {
            active = 1
            address = 192.168.77.100 eth0:1
            vip_nmask = 255.255.255.255
            port = 8080
            send = "GET / HTTP/1.0\\r\\n\\r\\n"
            expect = "HTTP"
            timeout = 4
            start_cmd = "/etc/init.d/httpd start"
            stop_cmd = "/etc/init.d/httpd stop"
        }
        failover off {
            active = 0
            address = 192.168.77.101 eth0:3
        }

        """

    func testFailoverBlocksBecomePlansAndTheirVIPsAndVirtualServersAreNotRun() throws {
        let runtime = try RuntimeConfiguration.make(
            TestConfigurations.parse(Self.fos), file: "lvs.cf", localAddresses: ["192.168.77.1": "eth0"]
        ).get()
        XCTAssertTrue(runtime.isFailoverServices)
        XCTAssertEqual(runtime.failoverPlans.map(\.name), ["web"], "inactive blocks are not run")
        let plan = try XCTUnwrap(runtime.failoverPlans.first)
        XCTAssertEqual(plan.endpoint.description, "192.168.77.100:8080", "checked on the VIP")
        XCTAssertEqual(plan.interval, .seconds(4))
        XCTAssertEqual(plan.startCommand, "/etc/init.d/httpd start")
        XCTAssertEqual(plan.stopCommand, "/etc/init.d/httpd stop")
        XCTAssertEqual("\(plan.check)", "tcp send \"GET / HTTP/1.0\\r\\n\\r\\n\" expect \"HTTP\"")
        XCTAssertEqual(runtime.virtualAddresses.map(\.description), ["192.168.77.100/32 dev eth0:1"])
        XCTAssertTrue(runtime.configuration.virtualServers.isEmpty)
        XCTAssertTrue(runtime.healthTargets.isEmpty)
        XCTAssertTrue(runtime.role.isStandalone)
    }

    func testABadCheckInAFailoverBlockIsReportedWithItsName() {
        let text = Self.fos.replacingOccurrences(of: "expect = \"HTTP\"", with: "expect = \"(\"\n    use_regex = 1")
        guard case .failure(let error) = RuntimeConfiguration.make(
            TestConfigurations.parse(text), file: "lvs.cf", localAddresses: [:])
        else { return XCTFail("a bad regex must be refused") }
        XCTAssertTrue(error.description.hasPrefix("lvs.cf: failover web: "), error.description)
    }

    static let failover = StatusReport.Failover(
        failed: true, holdDownLeftSeconds: 25, consecutiveFailures: 1, failures: 1,
        services: [
            .init(
                name: "web", address: "10.0.0.10/32 dev eth0:1", port: 80, state: "stopped", runsHere: false,
                check: "tcp connect", lastCheck: "failed: connection refused", lastCheckAgeSeconds: 5, checks: 12,
                checkFailures: 1,
                start: .init(
                    command: "start.sh", runs: 1, failures: 0, lastResult: "ok", lastAgeSeconds: 30,
                    lastDurationSeconds: 0.01, lastOutput: ""),
                stop: .init(
                    command: "stop.sh", runs: 1, failures: 1, lastResult: "exited with status 1", lastAgeSeconds: 5,
                    lastDurationSeconds: 0.01, lastOutput: "no pid file\n"))
        ])

    func testStatusTextShowsEachServiceWhereItRunsItsCheckAndItsCommands() {
        let report = StatusReport(
            director: .init(
                role: "backup", roleReason: "this director's failover services failed", roleAgeSeconds: 5,
                standalone: true, configuredRole: nil, peer: nil, silentLinks: [], failovers: 1, heartbeatRejects: 0,
                configFile: "lvs.cf", configAgeSeconds: 60, reloadError: nil, pid: 1),
            ipvs: .init(backend: "netlink", changesApplied: 0, errors: 0, consecutiveErrors: 0, lastError: nil),
            virtuals: [], failover: Self.failover)
        let text = report.text
        XCTAssertTrue(text.contains("failover services: FAILED (1 consecutive, hold-down 25s left), 1 failures\n"), text)
        XCTAssertTrue(text.contains("SERVICE  ADDRESS"), text)
        let row = text.split(separator: "\n").first { $0.hasPrefix("web ") }.map(String.init) ?? ""
        for part in ["10.0.0.10/32 dev eth0:1 port 80", "stopped", "no", "failed: connection refused 5s", "ok 30s",
            "exited with status 1 5s (1 failed)"]
        {
            XCTAssertTrue(row.contains(part), "\(part) not in \(row)")
        }
        XCTAssertFalse(text.contains("VIRTUAL"), "no empty LVS table in fos mode: \(text)")
        let page = StatusPage.render(report)
        XCTAssertTrue(page.contains("<td>web</td><td>10.0.0.10/32 dev eth0:1 port 80</td><td>stopped</td><td>no</td>"), page)
        XCTAssertTrue(page.contains("exited with status 1, 5s ago, 1 runs, 1 failed"), page)
        let json = String(decoding: try! JSONEncoder().encode(report), as: UTF8.self)
        XCTAssertTrue(json.contains("\"runsHere\":false"), json)
        XCTAssertEqual(try JSONDecoder().decode(StatusReport.self, from: Data(json.utf8)), report)
    }

    func testMetricsCountEachServicesChecksAndCommandFailures() {
        let text = MetricsText.render(
            .init(
                counters: .init(
                    weightChanges: 0, failovers: 1, netlinkErrors: 0, changesApplied: 0, reloads: 0, reloadFailures: 0,
                    role: .backup),
                health: nil, heartbeat: nil, table: nil, failover: Self.failover))
        for line in [
            "h2e_failover_services_failed 1", "h2e_failover_service_running{service=\"web\"} 0",
            "h2e_failover_service_check_passed{service=\"web\"} 0", "h2e_failover_service_checks_total{service=\"web\"} 12",
            "h2e_failover_commands_total{command=\"stop\",service=\"web\"} 1",
            "h2e_failover_command_failures_total{command=\"stop\",service=\"web\"} 1",
            "h2e_failover_command_failures_total{command=\"start\",service=\"web\"} 0",
        ] {
            XCTAssertTrue(text.contains(line + "\n"), "\(line) missing:\n\(text)")
        }
    }
}
