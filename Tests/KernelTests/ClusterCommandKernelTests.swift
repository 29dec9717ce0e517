import Foundation
import TestSupport
import XCTest

/// `h2e-director cluster ...` against a running director in the VM: site addresses added and removed (held, marked
/// and served, or given up), and a real server removed while a long download goes through it: it drains at weight
/// 0, the download completes, then its destination is deleted; added back, it serves again.
final class ClusterCommandKernelTests: FailoverClusterTestCase {
    func testClusterEditsAgainstARunningDirectorAndARemovedServerDrains() async throws {
        let cluster = try FailoverCluster(siteCount: 5)
        self.cluster = cluster
        let directory = cluster.directory
        func run(_ arguments: String) throws -> (status: Int32, output: String) {
            try shell("\(cluster.director.path) cluster \(arguments) --config \(directory)/lvs.cf --socket \(directory)/lb1.sock")
        }
        try cluster.start("lb1")
        let up = try await waitUntil(timeout: .seconds(30), interval: .milliseconds(200)) {
            try cluster.siteAddresses("lb1").count == 5 && cluster.fetch(address: "10.0.2.1") != nil
        }
        XCTAssertTrue(up, "lb1 did not go active with its 5 site addresses\n\(cluster.logs)")
        let original = try String(contentsOfFile: "\(directory)/lvs.cf", encoding: .utf8)

        // A site address added: into sites.list, then held, marked and served.
        var result = try run("add-address sites 10.0.2.50")
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("added site address 10.0.2.50 to \(directory)/sites.list"), result.output)
        XCTAssertTrue(result.output.contains("the daemon reloaded"), result.output)
        let added = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(200)) {
            try cluster.siteAddresses("lb1").contains("10.0.2.50") && cluster.markedAddresses("lb1").contains("10.0.2.50")
                && cluster.fetch(address: "10.0.2.50") != nil
        }
        XCTAssertTrue(added, "10.0.2.50 is not held, marked and served\n\(cluster.logs)")
        result = try run("remove-address sites 10.0.2.3")
        XCTAssertEqual(result.status, 0, result.output)
        let removed = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(200)) {
            try !cluster.siteAddresses("lb1").contains("10.0.2.3") && !cluster.markedAddresses("lb1").contains("10.0.2.3")
        }
        XCTAssertTrue(removed, "10.0.2.3 is still held or marked\n\(cluster.logs)")
        XCTAssertEqual(
            try String(contentsOfFile: "\(directory)/lvs.cf", encoding: .utf8), original,
            "site addresses live in sites.list: lvs.cf is untouched")

        // A concurrent edit is refused; nothing is written.
        try mustRun("(flock \(directory)/lvs.cf.lock sleep 5 </dev/null >/dev/null 2>&1 &)")
        let locked = await waitUntil(timeout: .seconds(5)) {
            (try? shell("flock -n \(directory)/lvs.cf.lock true").status) != 0
        }
        XCTAssertTrue(locked, "the test's flock did not take the lock")
        result = try run("remove-server sites web1")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("another cluster edit"), result.output)
        let unlocked = await waitUntil(timeout: .seconds(10), interval: .milliseconds(200)) {
            (try? shell("flock -n \(directory)/lvs.cf.lock true").status) == 0
        }
        XCTAssertTrue(unlocked)

        // A slow 4 MiB download through a site (a small receive buffer keeps it on the wire for ~10 s).
        try mustRun("ip netns exec client sysctl -qw net.ipv4.tcp_rmem='4096 16384 32768'")
        try mustRun("""
            (ip netns exec client curl -s --limit-rate 400k -o \(directory)/download -w '%{http_code} %{size_download}' \
              http://10.0.2.1/big > \(directory)/curl.out 2>&1; echo $? > \(directory)/curl.rc) </dev/null >/dev/null 2>&1 &
            """)
        var server = ""
        let flowing = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(100)) {
            let table = try cluster.connections("lb1")
            guard let line = table.split(separator: "\n").first(where: { $0.contains("ESTABLISHED") && $0.contains("10.0.2.1:80") })
            else { return false }
            server = line.contains("10.0.0.21") ? "web1" : "web2"
            return true
        }
        XCTAssertTrue(flowing, "the download did not start through lb1: \(cluster.observed { try $0.connections("lb1") })")
        guard flowing else { return }
        let address = server == "web1" ? "10.0.0.21" : "10.0.0.22"
        result = try run("remove-server sites \(server)")
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("removed server \(server)"), result.output)
        // Draining: still a destination, at weight 0, while the download goes on.
        let listing = try mustRun("ip netns exec lb1 ipvsadm -Ln")
        let drained = listing.split(separator: "\n").first { $0.contains("\(address):0") }
        XCTAssertNotNil(drained, "the removed server was deleted at once: \(listing)")
        XCTAssertEqual(drained?.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first, "0", "weight 0: \(listing)")
        let status = try mustRun("\(cluster.director.path) status --socket \(directory)/lb1.sock")
        XCTAssertTrue(status.contains("draining, removed from lvs.cf: "), status)
        let finished = try await waitUntil(timeout: .seconds(40), interval: .milliseconds(500)) {
            FileManager.default.fileExists(atPath: "\(directory)/curl.rc")
        }
        XCTAssertTrue(finished, "the download did not finish")
        let curl = (try? String(contentsOfFile: "\(directory)/curl.out", encoding: .utf8)) ?? ""
        XCTAssertEqual(curl, "200 4194304", "the download through the drained server was cut")
        let deleted = try await waitUntil(timeout: .seconds(15), interval: .milliseconds(200)) {
            try !mustRun("ip netns exec lb1 ipvsadm -Ln").contains("\(address):0")
        }
        XCTAssertTrue(deleted, "the drained server was not deleted after its connection ended\n\(cluster.log("lb1").suffix(2000))")
        XCTAssertTrue(cluster.log("lb1").contains("no active connection left"), cluster.log("lb1").suffix(2000).description)

        // Added back with the command: the block at the end of the virtual, comments kept, in the table again.
        result = try run("add-server sites \(server) \(address) --weight 2")
        XCTAssertEqual(result.status, 0, result.output)
        let text = try String(contentsOfFile: "\(directory)/lvs.cf", encoding: .utf8)
        XCTAssertTrue(text.contains("    server \(server) {\n        address = \(address)\n        active = 1\n        weight = 2\n    }\n}"), text)
        let back = try await waitUntil(timeout: .seconds(15), interval: .milliseconds(200)) {
            try mustRun("ip netns exec lb1 ipvsadm -Ln").contains("\(address):0")
        }
        XCTAssertTrue(back, "\(server) is not back in the table\n\(cluster.log("lb1").suffix(2000))")
    }
}
