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
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let result = try shell("cd '\(root)' && H2E_DEMO_BIN='\(binaries)' scripts/demo")
        print(result.output)  // the demo's table and summary (failover time, weights) in the test log
        XCTAssertEqual(result.status, 0, result.output)
        for expected in ["== 1. Steady state", "== 2. web1 gets busy", "== 3. web3's httpd stops", "== 4. kill -9 of lb1",
                         "FAILOVER TIME", "demo: PASS"] {
            XCTAssertTrue(result.output.contains(expected), "no '\(expected)' in the demo's output:\n\(result.output)")
        }
    }

}
