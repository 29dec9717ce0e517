import Director
import Foundation
import TestSupport
import XCTest

/// scripts/demo, the part that runs inside the VM, with the binaries this bundle was built with: the cluster of
/// scripts/lib/topology.sh with three agents and two `h2e-director run`s, then its four phases (steady state, a busy
/// webserver's weight falls, a stopped httpd leaves the table, kill -9 of the active director and the backup takes
/// over), each waited for with a deadline by scripts/lib/demo-driver.py. About 30 s.
///
/// The binaries are those of `H2E_DEMO_BIN` when set (scripts/test sets it to the release build, as scripts/demo
/// runs it: the whole cluster shares one emulated CPU), else this bundle's.
final class DemoKernelTests: XCTestCase {
    func testDemoRunsEveryPhase() throws {
        try requireIPVSKernel()
        let binaries = ProcessInfo.processInfo.environment["H2E_DEMO_BIN"] ?? productsDirectory.path
        for product in ["h2e-director", "h2e-agent"] {
            let path = binaries + "/" + product
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw unavailable("\(path) is not built (swift build [-c release] --product \(product))")
            }
        }
        for tool in ["ip", "nsenter", "busybox", "ipvsadm", "python3", "rrdtool"] where try shell("command -v \(tool)").status != 0 {
            throw unavailable("\(tool) is not installed (scripts/apt/demo.list)")
        }
        let root = repositoryRoot
        let resultPath = FileManager.default.temporaryDirectory.appendingPathComponent("h2e-demo-\(getpid()).json").path
        defer { unlink(resultPath) }
        let result = try shell("cd '\(root)' && H2E_DEMO_BIN='\(binaries)' H2E_DEMO_RESULT='\(resultPath)' scripts/demo")
        print(result.output)  // the demo's table and summary (failover time, weights) in the test log
        XCTAssertEqual(result.status, 0, result.output)

        // What happened, from the driver's result file: its phases, and each director's status as the director's
        // own StatusReport decodes it.
        let demo = try JSONDecoder().decode(DemoResult.self, from: Data(contentsOf: URL(fileURLWithPath: resultPath)))
        XCTAssertEqual(demo.phases.map(\.number), [1, 2, 3, 4], "every phase ran")
        for phase in demo.phases {
            XCTAssertTrue(phase.passed, "phase \(phase.number) (\(phase.title)): \(phase.message)")
        }
        XCTAssertTrue(demo.passed)
        let failover = try XCTUnwrap(demo.failoverSeconds, "no failover time")
        XCTAssertGreaterThan(failover, 0)
        XCTAssertGreaterThan(demo.requests.answered, demo.requests.failed, "most requests were answered")

        XCTAssertNil(demo.status["lb1"] ?? nil, "lb1 was killed: its control socket must not answer")
        let lb2 = try XCTUnwrap(demo.status["lb2"] ?? nil, "lb2 did not answer its control socket")
        XCTAssertEqual(lb2.director.role, "active")
        XCTAssertGreaterThanOrEqual(lb2.director.failovers, 1)
        let servers = Dictionary(uniqueKeysWithValues: lb2.virtuals.flatMap(\.servers).map { ($0.name, $0) })
        XCTAssertEqual(servers["web3"]?.inTable, false, "web3's httpd stopped: it must be out of the table")
        XCTAssertEqual(servers["web3"]?.health, "down")
        for name in ["web1", "web2"] {
            XCTAssertEqual(servers[name]?.inTable, true, "\(name) must be in lb2's table")
            XCTAssertEqual(servers[name]?.health, "up", name)
        }
    }
}

/// The result file of scripts/lib/demo-driver.py (`--result`).
private struct DemoResult: Decodable {
    struct Phase: Decodable {
        var number: Int
        var title: String
        var passed: Bool
        var message: String
        var seconds: Double
    }

    struct Requests: Decodable {
        var sent: Int
        var answered: Int
        var failed: Int
    }

    var passed: Bool
    var phases: [Phase]
    var failoverSeconds: Double?
    var requests: Requests
    /// Each director's last `status --json`; nil for one that did not answer.
    var status: [String: StatusReport?]
}
