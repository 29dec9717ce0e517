import LoadFeedback
import NIOCore
import XCTest

final class AgentLoadReportTests: XCTestCase {
    let now = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    func decode(_ json: String) -> Result<AgentLoadReport, LoadFailure> {
        AgentLoadReport.decode(ByteBuffer(string: json))
    }

    func testFullReportWithNullWorkersAndExtraFields() throws {
        let report = try decode(AgentClientTests.goodJSON).get()
        XCTAssertEqual(report.server, "web1")
        XCTAssertEqual(report.load, 0.42)
        XCTAssertEqual(report.metrics?.cpus, 4)
        XCTAssertEqual(report.metrics?.cpuUtil, 0.4)
        XCTAssertEqual(report.metrics?.tcpEstablished, 120)
        XCTAssertNil(report.metrics?.busyWorkers)
        XCTAssertEqual(report.reading(receivedAt: now, maximumAge: .seconds(180)), .load(perCPU: 0.42, at: now - .seconds(12)))
    }

    func testMetricsMayBeAbsent() throws {
        let report = try decode(#"{"server":"a","time":1,"age":0.5,"stale":false,"load":1.25}"#).get()
        XCTAssertNil(report.metrics)
        XCTAssertEqual(
            report.reading(receivedAt: now, maximumAge: .seconds(180)),
            .load(perCPU: 1.25, at: now - .milliseconds(500)))
    }

    func testBadMetricsTypeIsMalformedAndNamesTheField() {
        let result = decode(#"{"server":"a","time":1,"age":1,"stale":false,"load":1,"metrics":{"cpus":"four"}}"#)
        guard case .failure(let failure) = result else { return XCTFail("accepted") }
        XCTAssertTrue("\(failure)".contains("metrics.cpus"), "\(failure)")
    }

    func testNegativeAgeIsMalformed() throws {
        let report = try decode(#"{"server":"a","time":1,"age":-5,"stale":false,"load":1}"#).get()
        XCTAssertEqual(report.reading(receivedAt: now, maximumAge: .seconds(180)).failure?.kind, "malformed")
    }

    func testNotAnObjectIsMalformed() {
        for json in ["[]", "null", "0.5", ""] {
            guard case .failure(let failure) = decode(json) else { return XCTFail("accepted \(json)") }
            XCTAssertEqual(failure.kind, "malformed")
        }
    }
}
