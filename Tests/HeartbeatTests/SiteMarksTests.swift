import Addressing
import Foundation
import TestSupport
import XCTest

@testable import Heartbeat

/// The site marks' rule text, and the real nft and iptables-legacy installing, replacing and removing it in a
/// network namespace of the test's own (`unshare -n`), read back with the tools' own listings.
final class SiteMarksTests: XCTestCase {
    let marks = [
        SiteMarks(mark: 100, addresses: ["10.0.2.1", "10.0.2.2", "2001:db8::1"].map { IPAddress($0)! }),
        SiteMarks(mark: 7, addresses: [IPAddress("10.0.3.1")!]),
    ]

    func testRuleTextHasOneSetPerMarkAndFamilyAndOneRulePerAddressForIptables() {
        let nft = MarkRuleTool.nftables(marks)
        XCTAssertTrue(nft.hasPrefix("table inet h2e\ndelete table inet h2e\ntable inet h2e {\n"), nft)
        XCTAssertTrue(nft.contains("set sites4_100 {\n\t\ttype ipv4_addr\n\t\telements = {\n\t\t\t10.0.2.1,\n\t\t\t10.0.2.2,\n"), nft)
        XCTAssertTrue(nft.contains("set sites6_100 {\n\t\ttype ipv6_addr\n\t\telements = {\n\t\t\t2001:db8::1,\n"), nft)
        XCTAssertTrue(nft.contains("ip daddr @sites4_100 meta mark set 100\n"), nft)
        XCTAssertTrue(nft.contains("ip6 daddr @sites6_100 meta mark set 100\n"), nft)
        XCTAssertTrue(nft.contains("ip daddr @sites4_7 meta mark set 7\n"), nft)
        XCTAssertFalse(nft.contains("sites6_7"), "no empty set")
        XCTAssertEqual(MarkRuleTool.nftables([]), "table inet h2e\ndelete table inet h2e\n")

        let v4 = MarkRuleTool.iptables(marks.map { SiteMarks(mark: $0.mark, addresses: $0.addresses.filter { $0.family == .ipv4 }) }, prefix: 32)
        XCTAssertEqual(
            v4,
            "*mangle\n:H2E-MARKS - [0:0]\n-A H2E-MARKS -d 10.0.2.1/32 -j MARK --set-mark 100\n"
                + "-A H2E-MARKS -d 10.0.2.2/32 -j MARK --set-mark 100\n-A H2E-MARKS -d 10.0.3.1/32 -j MARK --set-mark 7\nCOMMIT\n")
        let plan = MarkRuleTool.iptables(legacy: true).plan(marks, directory: "/var/lib/h2e's")
        XCTAssertEqual(plan.files.map(\.name), ["marks.iptables", "marks.ip6tables"])
        XCTAssertTrue(plan.command.contains("iptables-legacy-restore -w --noflush '/var/lib/h2e'\\''s/marks.iptables'"), plan.command)
    }

    /// Installs the marks, replaces them with a changed list, then removes them, in one fresh network namespace;
    /// returns what `list` printed after each of the three.
    private func cycle(_ tool: MarkRuleTool, list: String) throws -> [String] {
        for program in ["unshare", tool == .nftables ? "nft" : "iptables-legacy"] where try shell("command -v \(program)").status != 0 {
            throw unavailable("\(program) is not installed (scripts/apt/director.list)")
        }
        guard getuid() == 0 else { throw unavailable("a network namespace of the test's own needs root") }
        let directory = try shell("mktemp -d /tmp/h2e-marks.XXXXXX").output.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { if ProcessInfo.processInfo.environment["H2E_KEEP"] == nil { _ = try? shell("rm -rf \(directory)") } }
        let changed = [SiteMarks(mark: 100, addresses: ["10.0.2.2", "10.0.2.9"].map { IPAddress($0)! })]
        var script = "set -e\n"
        for (index, step) in [marks, changed, []].enumerated() {
            let stepDirectory = "\(directory)/\(index)"
            try FileManager.default.createDirectory(atPath: stepDirectory, withIntermediateDirectories: true)
            let plan = tool.plan(step, directory: stepDirectory)
            for file in plan.files {
                try file.text.write(toFile: "\(stepDirectory)/\(file.name)", atomically: true, encoding: .utf8)
            }
            script += "\(plan.command)\necho '== \(index)'\n\(list)\n"
        }
        try script.write(toFile: "\(directory)/run.sh", atomically: true, encoding: .utf8)
        let result = try shell("unshare -n sh \(directory)/run.sh 2>&1")
        XCTAssertEqual(result.status, 0, result.output)
        return result.output.components(separatedBy: "== ").dropFirst().map { String($0.drop { $0 != "\n" }) }
    }

    func testNftablesInstallsReplacesAndRemovesItsTableAtomically() throws {
        let listings = try cycle(.nftables, list: "nft list tables; nft list table inet h2e 2>/dev/null || true")
        XCTAssertEqual(listings.count, 3)
        guard listings.count == 3 else { return }
        for address in ["10.0.2.1", "10.0.2.2", "10.0.3.1", "2001:db8::1"] { XCTAssertTrue(listings[0].contains(address), listings[0]) }
        XCTAssertTrue(listings[0].contains("meta mark set 0x00000064"), listings[0])
        XCTAssertTrue(listings[0].contains("meta mark set 0x00000007"), listings[0])
        XCTAssertTrue(listings[1].contains("10.0.2.9") && listings[1].contains("10.0.2.2"), listings[1])
        XCTAssertFalse(listings[1].contains("10.0.2.1,") || listings[1].contains("10.0.3.1"), "replaced, not merged: \(listings[1])")
        XCTAssertFalse(listings[2].contains("h2e"), "removed: \(listings[2])")
    }

    func testIptablesLegacyInstallsReplacesAndRemovesItsChain() throws {
        let listings = try cycle(.iptables(legacy: true), list: "iptables-legacy -w -t mangle -S")
        XCTAssertEqual(listings.count, 3)
        guard listings.count == 3 else { return }
        XCTAssertTrue(listings[0].contains("-A PREROUTING -j H2E-MARKS"), listings[0])
        XCTAssertTrue(listings[0].contains("-A H2E-MARKS -d 10.0.2.1/32 -j MARK --set-xmark 0x64/0xffffffff"), listings[0])
        XCTAssertTrue(listings[0].contains("-A H2E-MARKS -d 10.0.3.1/32 -j MARK --set-xmark 0x7/0xffffffff"), listings[0])
        XCTAssertEqual(listings[1].components(separatedBy: "-j H2E-MARKS").count - 1, 1, "one jump: \(listings[1])")
        XCTAssertTrue(listings[1].contains("-d 10.0.2.9/32"), listings[1])
        XCTAssertFalse(listings[1].contains("10.0.2.1/32"), "replaced, not merged: \(listings[1])")
        XCTAssertFalse(listings[2].contains("H2E-MARKS"), "removed: \(listings[2])")
    }
}
