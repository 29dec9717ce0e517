import Foundation
import XCTest

/// KB 114327's farm with its site addresses owned by h2e: 200 site IPs in sites.list behind fwmark 100, two
/// directors, marks by iptables-legacy (the guest has no nf_tables for IPv4). The active director holds and marks
/// every one, the backup none; kill -9 moves them all, and the client reaches a site through the backup; the dead
/// director, restarted, holds none; a reload with a changed list changes only the difference.
final class SiteAddressKernelTests: FailoverClusterTestCase {
    static let siteCount = 200

    func testEverySiteAddressAndMarkFollowsTheActiveDirectorAndAReloadChangesOnlyTheDifference() async throws {
        let cluster = try FailoverCluster(siteCount: Self.siteCount)
        self.cluster = cluster
        let all = Set((1...Self.siteCount).map { "10.0.2.\($0)" })
        let summary = try mustRun("\(cluster.director.path) check-config --config \(cluster.directory)/lvs.cf")
        XCTAssertTrue(summary.contains("\(Self.siteCount) site addresses (marks by iptables-legacy)"), summary)
        try cluster.start("lb1")
        let first = try await waitUntil(timeout: .seconds(30), interval: .milliseconds(200)) { try cluster.vipHolders() == ["lb1"] }
        XCTAssertTrue(first, "lb1 alone did not become active\n\(cluster.logs)")
        try cluster.start("lb2")
        try await cluster.waitForPrimaryActive()

        /// Waits until director `name` holds and marks exactly `all`; fails saying how many it has.
        func waitForEverySite(on name: String, timeout: Duration) async throws {
            let done = try await waitUntil(timeout: timeout, interval: .milliseconds(200)) {
                try cluster.siteAddresses(name) == all && cluster.markedAddresses(name) == all
            }
            XCTAssertTrue(
                done,
                "\(name) holds \(cluster.observed { try $0.siteAddresses(name).count }) site addresses and marks "
                    + "\(cluster.observed { try $0.markedAddresses(name).count }) of \(Self.siteCount)\n\(cluster.logs)")
        }

        // The active director holds and marks every site address; the backup none.
        try await waitForEverySite(on: "lb1", timeout: .seconds(10))
        XCTAssertTrue(try cluster.jumpsToMarks("lb1"))
        XCTAssertEqual(try cluster.siteAddresses("lb2"), [], "the backup holds no site address")
        XCTAssertEqual(try cluster.markedAddresses("lb2"), [], "the backup marks nothing")
        let visited = ["10.0.2.1", "10.0.2.100", "10.0.2.200"]
        for site in visited {
            let body = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(200)) {
                try cluster.fetch(address: site)?.hasPrefix("web") ?? false
            }
            XCTAssertTrue(body, "no answer from \(site) through lb1\n\(cluster.logs)")
        }
        XCTAssertEqual(try cluster.clientNeighbourMAC(for: "10.0.2.100"), try cluster.mac("lb1"))

        // kill -9 of the active director: the backup takes every address and mark over and announces them, the
        // client's neighbour entries move to it, and a site is served through its IPVS.
        try cluster.kill("lb1")
        let killed = ContinuousClock.now
        let backupMAC = try cluster.mac("lb2")
        try await waitForEverySite(on: "lb2", timeout: .seconds(15))
        let moved = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(200)) {
            try visited.allSatisfy { try cluster.clientNeighbourMAC(for: $0) == backupMAC }
        }
        XCTAssertTrue(
            moved,
            "the client's neighbour entries: \(cluster.observed { c in try visited.map { try c.clientNeighbourMAC(for: $0) } }), not lb2's \(backupMAC)")
        let served = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(200)) {
            try cluster.fetch(address: "10.0.2.100", timeout: 0.5)?.hasPrefix("web") ?? false
        }
        XCTAssertTrue(served, "no answer from 10.0.2.100 after the takeover\n\(cluster.logs)")
        print("site addresses: kill -9 of lb1 -> \(Self.siteCount) addresses and marks on lb2, the client's entries moved and 10.0.2.100 served, \(killed.duration(to: .now))")
        XCTAssertTrue(
            try cluster.connections("lb2").contains("10.0.2.100:80"),
            "the request did not go through lb2's IPVS: \(cluster.observed { try $0.connections("lb2") })")

        // The dead director, restarted, finds lb2 active, stays backup and removes what the killed one left.
        XCTAssertEqual(try cluster.siteAddresses("lb1"), all, "kill -9 left the addresses in lb1's kernel")
        try cluster.start("lb1")
        let cleaned = try await waitUntil(timeout: .seconds(20), interval: .milliseconds(200)) {
            try cluster.siteAddresses("lb1").isEmpty && cluster.markedAddresses("lb1").isEmpty
                && !cluster.jumpsToMarks("lb1")
        }
        XCTAssertTrue(
            cleaned,
            "restarted lb1 still holds \(cluster.observed { try $0.siteAddresses("lb1").count }) site addresses and "
                + "marks \(cluster.observed { try $0.markedAddresses("lb1").count })\n\(cluster.logs)")
        XCTAssertEqual(try cluster.role("lb1"), "backup")
        XCTAssertEqual(try cluster.siteAddresses("lb2"), all, "lb2 kept every site address")

        // A reload with a changed list (the panel dropped 10 sites and added 10): lb2 gives up the dropped ones,
        // replaces its marks and adds the new ones; the 190 others stay where they are.
        let changed = Set((11...(Self.siteCount + 10)).map { "10.0.2.\($0)" })
        let list = "\(cluster.directory)/sites.list"
        try FailoverCluster.siteList((11...(Self.siteCount + 10)).map { "10.0.2.\($0)" })
            .write(toFile: list + ".new", atomically: true, encoding: .utf8)
        try mustRun("mv \(list).new \(list)")
        let logBefore = cluster.logSize("lb2")
        let pid = try cluster.pids("lb2").first.map { String($0) } ?? ""
        try mustRun("kill -HUP \(pid)")
        let reloaded = try await waitUntil(timeout: .seconds(15), interval: .milliseconds(200)) {
            try cluster.siteAddresses("lb2") == changed && cluster.markedAddresses("lb2") == changed
        }
        XCTAssertTrue(
            reloaded,
            "after the reload lb2 holds \(cluster.observed { try $0.siteAddresses("lb2").count }) site addresses\n\(cluster.logs)")
        // The takeover executor logs the reload once its announcements are over (5 rounds, 1 s apart): 10 removals,
        // the marks, 10 additions and one announcement step, the difference and nothing else.
        var reloadLog = ""
        let logged = await waitUntil(timeout: .seconds(15), interval: .milliseconds(200)) {
            reloadLog = String(cluster.log("lb2").utf8.dropFirst(logBefore)) ?? ""
            return reloadLog.contains("reload: done (")
        }
        XCTAssertTrue(logged, "lb2 did not log the reload's takeover steps:\n\(reloadLog.suffix(2000))")
        XCTAssertTrue(reloadLog.contains("reload: done (22 steps)"), "the reload took more than the difference:\n\(reloadLog.suffix(2000))")
        XCTAssertEqual(try cluster.siteAddresses("lb1"), [], "the backup still holds none")
        let newSite = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(200)) {
            try cluster.fetch(address: "10.0.2.205", timeout: 0.5)?.hasPrefix("web") ?? false
        }
        XCTAssertTrue(newSite, "no answer from the new site 10.0.2.205\n\(cluster.logs)")
    }
}
