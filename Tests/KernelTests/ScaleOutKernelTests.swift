import Director
import Foundation
import TestSupport
import XCTest

/// Issue 16 for real: three `h2e-director run` (`scale_out = 1`), each with BIRD, announce the VIP by BGP to a router
/// that spreads flows by ECMP (scripts/lib/scaleout.sh), in the user-mode-linux kernel. New connections spread over
/// all three; a director killed with 30 downloads running loses none of them (mh + sloppy_tcp); it comes back and
/// announces again; an operator drains and resumes a director.
final class ScaleOutKernelTests: XCTestCase {
    var group: ScaleOutGroup?

    override func setUp() async throws {
        try requireIPVSKernel()
        group = try ScaleOutGroup()
    }

    override func tearDown() async throws {
        group?.tearDown()
    }

    /// Starts every director and waits for the router to have one nexthop per director.
    func startAll(_ group: ScaleOutGroup) async throws {
        for name in group.directors { try group.start(name) }
        let all = try await group.waitForNexthops(group.directors.count, seconds: 60)
        XCTAssertTrue(all, "the router never had \(group.directors.count) nexthops: \(group.nexthops())\n\(group.logs)")
        guard all else { throw CancellationError() }
    }

    func testEveryDirectorAnnouncesAndNewConnectionsSpreadOverAll() async throws {
        let group = try XCTUnwrap(group)
        try await startAll(group)
        XCTAssertEqual(Set(group.nexthops()), ["10.0.0.11", "10.0.0.12", "10.0.0.13"])

        // status: what lb1 announces, and BIRD's sessions as BIRD reports them.
        var report: StatusReport.Group?
        let sessionsUp = try await waitUntil(timeout: .seconds(20), interval: .milliseconds(200)) {
            report = try group.status("lb1")?.group
            guard report?.bird?.bgpDown == [], report?.bird?.bfdSessions.first?.state == "Up" else { return false }
            return report?.peers.allSatisfy {
                $0.error == nil && $0.announced == [ScaleOutGroup.vip] && $0.bgp?.first?.contains("Established") == true
            } ?? false
        }
        XCTAssertTrue(sessionsUp, "\(String(describing: report))")
        XCTAssertEqual(report?.announced, [ScaleOutGroup.vip])
        XCTAssertEqual(report?.drained, false)
        XCTAssertEqual(report?.bird?.protocols.first { $0.proto == "BGP" }?.state, "up")
        let text = try group.control("lb1", "status").output
        XCTAssertTrue(text.contains("announced: \(ScaleOutGroup.vip)"), text)
        XCTAssertTrue(text.contains("Established"), text)
        // The group from lb1: lb2 and lb3 through their status pages (scale_out_peers).
        let peers = try XCTUnwrap(report?.peers)
        XCTAssertEqual(peers.map(\.address), ["10.0.0.12:9180", "10.0.0.13:9180"])
        for peer in peers {
            XCTAssertNil(peer.error, "\(peer)")
            XCTAssertEqual(peer.announced, [ScaleOutGroup.vip], "\(peer)")
            XCTAssertEqual(peer.drained, false)
            XCTAssertTrue(peer.bgp?.first?.contains("Established") ?? false, "\(peer)")
        }
        XCTAssertTrue(text.contains("peer director 10.0.0.13:9180: announcing \(ScaleOutGroup.vip); BGP uplink up"), text)
        // The scheduler every director agrees with, and sloppy_tcp.
        let table = try mustRun("ip netns exec lb2 ipvsadm -Ln")
        XCTAssertTrue(table.contains("mh (mh-fallback,mh-port)"), table)
        XCTAssertEqual(try mustRun("ip netns exec lb3 cat /proc/sys/net/ipv4/vs/sloppy_tcp").trimmingCharacters(in: .whitespacesAndNewlines), "1")

        // 90 new connections from 90 source ports: the router's layer-4 hash gives each director some.
        let spread = try mustRun(group.lib("scaleout_spread 90"))
        var counts: [String: Int] = [:]
        for line in spread.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, let count = Int(fields[1]) { counts[String(fields[0])] = count }
        }
        for name in group.directors { XCTAssertGreaterThan(counts[name] ?? 0, 0, "\(name) took no connection: \(spread)") }
        for web in 1...group.webs { XCTAssertGreaterThan(counts["web\(web)"] ?? 0, 0, "web\(web) answered none: \(spread)") }
        XCTAssertEqual(group.directors.reduce(0) { $0 + (counts[$1] ?? 0) }, 90, spread)
        print("scale-out spread of 90 connections: \(counts.sorted { $0.key < $1.key })")
    }

    func testAKilledDirectorIsWithdrawnLosesNoDownloadAndComesBack() async throws {
        let group = try XCTUnwrap(group)
        try await startAll(group)
        try mustRun(group.lib("scaleout_routes_watch"))
        try mustRun(group.lib("scaleout_downloads_start 30"))
        let carrying = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(200)) {
            let flows = try mustRun(group.lib("scaleout_flows lb1")).trimmingCharacters(in: .whitespacesAndNewlines)
            return (Int(flows) ?? 0) > 0
        }
        XCTAssertTrue(carrying, "lb1 carries none of the 30 downloads: the kill would prove nothing")
        try mustRun(group.lib("scaleout_probes_start 0.1"))
        let killedAt = try mustRun("date +%s.%N").trimmingCharacters(in: .whitespacesAndNewlines)
        try group.kill("lb1")
        let withdrawn = try await group.waitForNexthops(2, seconds: 10)
        XCTAssertTrue(withdrawn, "lb1's route stayed after its director died: \(group.nexthops())")
        XCTAssertFalse(group.nexthops().contains("10.0.0.11"))
        XCTAssertTrue(try mustRun("ip netns exec lb1 ip link show h2e0 2>&1 || true").contains("does not exist"),
            "the kernel deleted the dead director's TUN device")
        let withdrawal = try mustRun(group.lib("scaleout_routes_when 2 \(killedAt)")).trimmingCharacters(in: .whitespacesAndNewlines)
        // New connections are served again (a moment after the kill: connections the router still sent to lb1's
        // dead TUN address go unanswered until the withdrawal).
        let served = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(200)) {
            let after = try mustRun(group.lib("scaleout_probes_after \(killedAt)")).split(separator: " ")
            return after.count == 3 && after[1] != "-"
        }
        XCTAssertTrue(served)

        // It comes back: announces again, and the flows that move back to it do not break.
        try group.start("lb1")
        let back = try await group.waitForNexthops(3, seconds: 60)
        XCTAssertTrue(back, "lb1 did not announce again: \(group.nexthops())\n\(group.log("lb1").suffix(2000))")
        try mustRun(group.lib("scaleout_probes_stop"))
        let probes = try mustRun(group.lib("scaleout_probes_after \(killedAt)")).trimmingCharacters(in: .whitespacesAndNewlines)
        let broken = try mustRun(group.lib("scaleout_downloads_broken 180")).trimmingCharacters(in: .whitespacesAndNewlines)
        print("scale-out kill: route withdrawn \(withdrawal) s after kill -9 of lb1's h2e-director; probes after the kill "
            + "(failed, first ok s, last failed s): \(probes); downloads broken: \(broken) of 30")
        XCTAssertEqual(broken, "0", "downloads broken by a director's death and return (mh + sloppy_tcp): \((try? shell("cat \(group.directory)/dl/[0-9]* | sort | uniq -c"))?.output ?? "")")
    }

    func testAnOperatorDrainsADirectorAndItStaysDrainedAcrossARestart() async throws {
        let group = try XCTUnwrap(group)
        try await startAll(group)
        let drain = try group.control("lb2", "director drain")
        XCTAssertEqual(drain.status, 0, drain.output)
        XCTAssertTrue(drain.output.contains("withdrawn"), drain.output)
        let withdrawn = try await group.waitForNexthops(2, seconds: 10)
        XCTAssertTrue(withdrawn, "\(group.nexthops())")
        XCTAssertFalse(group.nexthops().contains("10.0.0.12"))
        let status = try XCTUnwrap(try group.status("lb2")?.group)
        XCTAssertTrue(status.drained)
        XCTAssertEqual(status.announced, [])
        XCTAssertTrue(status.notAnnounced.first?.reason.contains("drained") ?? false, "\(status.notAnnounced)")

        // Restarted, it stays drained: up and checking, with BGP Established, but announcing nothing.
        try mustRun(group.lib("scaleout_h2e_stop lb2"))
        let stopped = try await waitUntil(timeout: .seconds(10)) { try group.status("lb2") == nil }
        XCTAssertTrue(stopped)
        try group.start("lb2")
        let restarted = try await waitUntil(timeout: .seconds(20), interval: .milliseconds(200)) {
            guard let report = try group.status("lb2") else { return false }
            return report.virtuals.first?.servers.allSatisfy { $0.health == "up" } == true
        }
        XCTAssertTrue(restarted, group.log("lb2"))
        XCTAssertEqual(try group.status("lb2")?.group?.drained, true)
        XCTAssertEqual(Set(group.nexthops()), ["10.0.0.11", "10.0.0.13"], "a drained director announces nothing after a restart")

        let resume = try group.control("lb2", "director resume")
        XCTAssertEqual(resume.status, 0, resume.output)
        let back = try await group.waitForNexthops(3, seconds: 10)
        XCTAssertTrue(back, "\(group.nexthops())")
        XCTAssertEqual(try group.status("lb2")?.group?.drained, false)
    }
}
