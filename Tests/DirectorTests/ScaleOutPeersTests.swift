import Addressing
import IPVS
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import XCTest

@testable import Director

/// `scale_out_peers`: `status` asks the group's other directors for their `/status.json` over real HTTP (their
/// status listeners), and says for each what it announces, or why it could not tell.
final class ScaleOutPeersTests: XCTestCase {
    /// A status listener on 127.0.0.1 answering `/status.json` with `body`; returns its port and the task running it.
    func listener(_ body: String) async throws -> (Int, Task<Void, any Error>) {
        let port = NIOLockedValueBox<Int?>(nil)
        let server = StatusHTTPServer(
            listen: ListenAddress(host: "127.0.0.1", port: 0), logger: Logger(label: "test"), bound: { bound in
                port.withLockedValue { $0 = bound }
            }
        ) { path in
            path == "/status.json" ? (.ok, "application/json", body) : (.notFound, "text/plain", "no\n")
        }
        let task = Task { try await server.run() }
        let deadline = ContinuousClock.now + .seconds(5)
        while port.withLockedValue({ $0 }) == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        return (try XCTUnwrap(port.withLockedValue { $0 }), task)
    }

    func scaleOutReport() throws -> StatusReport {
        let now = NIODeadline.now()
        let runtime = try RuntimeConfiguration.make(
            TestConfigurations.parse(ScaleOutStateTests.group), file: "test.cf", localAddresses: [:]
        ).get()
        var state = DirectorState(runtime: runtime, backend: "memory", now: now)
        var table = IPVSTable()
        _ = ScaleOutStateTests.drive(
            .health(RealServerID(virtual: "web", server: "web1"), .up), on: &state, table: &table, now: now)
        return state.report(now: now, pid: 1)
    }

    func testEachPeerSaysWhatItAnnouncesOrWhyItCannot() async throws {
        let encoder = JSONEncoder()
        let member = String(decoding: try encoder.encode(try scaleOutReport()), as: UTF8.self)
        let pairRuntime = try RuntimeConfiguration.make(
            TestConfigurations.parse(TestConfigurations.web), file: "test.cf", localAddresses: [:]
        ).get()
        let pair = String(
            decoding: try encoder.encode(DirectorState(runtime: pairRuntime, now: NIODeadline.now()).report(now: NIODeadline.now(), pid: 2)),
            as: UTF8.self)
        let (memberPort, memberTask) = try await listener(member)
        let (pairPort, pairTask) = try await listener(pair)
        defer {
            memberTask.cancel()
            pairTask.cancel()
        }
        let peers = await DirectorOperations.askPeers([
            HostPort(host: "127.0.0.1", port: memberPort), HostPort(host: "127.0.0.1", port: pairPort),
            HostPort(host: "127.0.0.1", port: 1),
        ])
        XCTAssertEqual(peers.map(\.address), ["127.0.0.1:\(memberPort)", "127.0.0.1:\(pairPort)", "127.0.0.1:1"])
        XCTAssertEqual(peers[0].announced, ["10.0.100.10"])
        XCTAssertEqual(peers[0].drained, false)
        XCTAssertTrue(peers[0].error?.contains("its BIRD") ?? false, "\(peers[0])")
        XCTAssertEqual(peers[1].error, "not a scale-out director (no scale_out = 1)")
        XCTAssertNil(peers[1].announced)
        XCTAssertNotNil(peers[2].error, "nothing listens on port 1")

        var report = try scaleOutReport()
        report.group?.peers = peers
        let text = report.text
        XCTAssertTrue(text.contains("peer director 127.0.0.1:\(memberPort): announcing 10.0.100.10"), text)
        XCTAssertTrue(text.contains("peer director 127.0.0.1:\(pairPort): not a scale-out director"), text)
    }
}
