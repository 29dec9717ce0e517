import AgentWire
import LoadAgent
import LoadFeedback
import NIOCore
import XCTest

/// The agent writes `/load.json`, the director reads it: both through ``LoadDocument``.
final class LoadDocumentContractTests: XCTestCase {
    func testWhatTheAgentWritesTheDirectorReadsBackUnchanged() throws {
        let sample = LoadSample(
            time: 1_700_000_040, load1: 1.68, load5: 1.25, load15: 1.1, cpus: 4, cpuUtil: 0.4, memUsed: 1e9,
            memAvailable: 3e9, tcpEstablished: 120, busyWorkers: nil)
        let live = LiveLoad(
            figure: 0.6125, window: 10, source: "cgroup", cgroup: "/system.slice/apache2.service", capacity: 0.5,
            usage: 0.3, throttled: 0.0125, throttledMicroseconds: 34_000, cpuPressure: nil)
        let status = LoadStatus(server: "web\"1", sample: sample, now: 1_700_000_052, live: live)
        let decoded = try LoadDocument.decode(ByteBuffer(string: status.json)).get()
        XCTAssertEqual(decoded, status.document)
        XCTAssertEqual(decoded.server, "web\"1")
        XCTAssertEqual(decoded.age, 12)
        XCTAssertEqual(decoded.load, 0.42)
        XCTAssertEqual(decoded.live?.throttledUsec, 34_000)
        XCTAssertEqual(decoded.metrics?.cpus, 4)
        XCTAssertNil(decoded.metrics?.busyWorkers)

        // Stale by the contract's limit, on both sides.
        let old = LoadStatus(
            server: "web1", sample: sample, now: 1_700_000_040 + LoadDocument.staleAfterSeconds + 1)
        let stale = try LoadDocument.decode(ByteBuffer(string: old.json)).get()
        XCTAssertTrue(stale.stale)
        XCTAssertNil(stale.live)
        guard case .failed(.stale) = stale.reading(receivedAt: .now(), maximumAge: .seconds(1_000)) else {
            return XCTFail("a sample the agent calls stale was weighed by")
        }
    }

    func testNumbersAreJSONNumbers() {
        XCTAssertEqual(JSONText.number(4), "4")
        XCTAssertEqual(JSONText.number(-2), "-2")
        XCTAssertEqual(JSONText.number(0.83333333, decimals: 4), "0.8333")
        XCTAssertEqual(JSONText.number(1.5), "1.5")
        XCTAssertEqual(JSONText.number(nil), "null")
        XCTAssertEqual(JSONText.number(.infinity), "null")
        XCTAssertEqual(JSONText.number(.nan), "null")
        XCTAssertEqual(JSONText.string("a\"b\\c\u{1}"), "\"a\\\"b\\\\c\\u0001\"")
    }
}
