import Addressing
import HealthCheck
import Heartbeat
import IPVS
import XCTest

@testable import Director

/// Metrics text, the status page and table, and --metrics addresses.
final class FormattingTests: XCTestCase {
    func testMetricsText() {
        let heartbeat = MetricsText.HeartbeatCounters(sent: 7, accepted: 6, rejections: [.badMAC: 3])
        var health = HealthCheckStatistics()
        health.passed = 10
        health.failed = 2
        var destination = Destination(address: IPAddress("10.0.0.2")!, port: 80, weight: 27)
        destination.activeConnections = 4
        var statistics = IPVSStatistics()
        statistics.connections = 99
        destination.statistics = statistics
        let table = IPVSTable(services: [VirtualService(key: .address(.tcp, IPAddress("10.0.0.10")!, port: 80), destinations: [destination])])
        let text = MetricsText.render(.init(
            counters: .init(weightChanges: 5, failovers: 1, netlinkErrors: 2, changesApplied: 9, reloads: 1, reloadFailures: 0, role: .active,
                loadFailures: ["timeout": 4, "wrong_server": 1]),
            health: health, heartbeat: heartbeat, table: table, serversUp: ["web": 1], serversConfigured: ["web": 2]))
        for line in [
            "# TYPE h2e_failovers_total counter", "h2e_director_active 1", "h2e_failovers_total 1",
            "h2e_weight_changes_total 5", "h2e_netlink_errors_total 2",
            #"h2e_load_failures_total{kind="timeout"} 4"#, #"h2e_load_failures_total{kind="wrong_server"} 1"#, "h2e_health_checks_total 12",
            "h2e_health_check_failures_total 2", "h2e_heartbeats_sent_total 7", #"h2e_heartbeat_rejects_total{reason="badMAC"} 3"#,
            #"h2e_heartbeat_rejects_total{reason="replay"} 0"#, #"h2e_servers_up{virtual="web"} 1"#,
            #"h2e_ipvs_destination_weight{server="10.0.0.2:80",service="TCP 10.0.0.10:80"} 27"#,
            #"h2e_ipvs_destination_active_connections{server="10.0.0.2:80",service="TCP 10.0.0.10:80"} 4"#,
            #"h2e_ipvs_destination_connections_total{server="10.0.0.2:80",service="TCP 10.0.0.10:80"} 99"#,
        ] {
            XCTAssertTrue(text.contains("\n\(line)\n") || text.hasPrefix("\(line)\n"), "missing \(line) in\n\(text)")
        }
        XCTAssertEqual(MetricsText.escape("a\"b\\c\nd"), #"a\"b\\c\nd"#)
    }

    func testStatusPageEscapesAndTextTableAligns() {
        let server = StatusReport.Server(
            name: "<web1>", address: "10.0.0.2", port: 80, health: "down", healthDetail: "timeout", healthAgeSeconds: 130,
            lastCheck: "failed: timeout", lastCheckAgeSeconds: 1, check: "tcp connect", load: 1.5, loadAgeSeconds: 3, loadError: nil, configuredWeight: 32, weight: nil,
            inTable: false, reason: "removed: health check failed: timeout", override: nil, overrideSince: nil,
            agentURL: "http://10.0.0.2:8181/")
        let report = StatusReport(
            director: .init(role: "backup", roleReason: "starting", roleAgeSeconds: 5, standalone: false, configuredRole: "backup",
                peer: .init(state: "active", configuredRole: "primary", fit: true, alive: true, heardAgeSeconds: 0.1),
                silentLinks: [], failovers: 0,
                heartbeatRejects: 0, configFile: "/etc/lvs.cf", configAgeSeconds: 5, reloadError: nil, pid: 1),
            ipvs: .init(backend: "netlink", changesApplied: 3, errors: 0, consecutiveErrors: 0, lastError: nil),
            virtuals: [.init(name: "web", service: "TCP 10.0.0.10:80", address: "10.0.0.10 eth0:1", scheduler: "lblc",
                forwarding: "route", loadMonitor: "h2e", sorryServer: nil, sorryServerInUse: false, servers: [server])])
        let page = StatusPage.render(report)
        XCTAssertTrue(page.contains("<td>&lt;web1&gt;</td>"), page)
        XCTAssertFalse(page.contains("<web1>"))
        XCTAssertTrue(page.contains("<a href=\"http://10.0.0.2:8181/\">agent</a>"), page)
        XCTAssertTrue(page.contains("<a href=\"http://10.0.0.2:8181/graph/load.png?period=day\">load (day)</a>"), page)
        let text = report.text
        XCTAssertEqual(text, """
            role backup (backup) since 5s: starting
            peer active (primary), failovers 0, rejected heartbeats 0
            ipvs netlink: 3 changes applied, 0 errors
            VIRTUAL  SERVER  ADDRESS      HEALTH   CHECKED    LOAD     WEIGHT  OVERRIDE  REASON
            web      <web1>  10.0.0.2:80  down 2m  failed 1s  1.50 3s  out     -         removed: health check failed: timeout

            """, "the health detail is not repeated when the reason has it")

        var dead = report
        dead.director.peer?.alive = false
        dead.director.peer?.heardAgeSeconds = 75
        dead.director.silentLinks = [0]
        XCTAssertTrue(
            dead.text.contains("peer silent for 75s, last said active (primary), silent links 0, failovers 0"), dead.text)
    }

    func testMetricsAddresses() throws {
        XCTAssertEqual(try ListenAddress.parse("127.0.0.1:9110", allowRemote: false), ListenAddress(host: "127.0.0.1", port: 9110))
        XCTAssertEqual(try ListenAddress.parse("[::1]:9110", allowRemote: false), ListenAddress(host: "::1", port: 9110))
        XCTAssertThrowsError(try ListenAddress.parse("0.0.0.0:9110", allowRemote: false)) {
            XCTAssertEqual($0 as? ListenAddressError, .remote("0.0.0.0:9110"))
        }
        XCTAssertEqual(try ListenAddress.parse("0.0.0.0:9110", allowRemote: true).host, "0.0.0.0")
        for bad in ["localhost:80", "127.0.0.1", "127.0.0.1:99999", "::1:80"] {
            XCTAssertThrowsError(try ListenAddress.parse(bad, allowRemote: true), bad)
        }
    }
}
