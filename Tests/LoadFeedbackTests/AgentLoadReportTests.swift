import AgentWire
import LoadFeedback
import NIOCore
import XCTest

final class AgentLoadReportTests: XCTestCase {
    let now = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    func decode(_ json: String) -> Result<LoadDocument, LoadFailure> {
        LoadDocument.decode(ByteBuffer(string: json))
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

    static let liveJSON = #"""
        {"server":"web1","time":1700000000,"age":40,"stale":true,"load":1.4,
         "live":{"figure":0.83,"window":10.0,"source":"cgroup","cgroup":"/web1","capacity":0.06,"usage":0.05,
                 "throttled":0.4,"throttled_usec":34000,"cpu_pressure":null,"in_flight":null,"future":"ignored"}}
        """#

    func testALiveFigureIsReadAtReceiveTimeWithItsWindow() throws {
        let report = try decode(Self.liveJSON).get()
        XCTAssertEqual(report.live?.capacity, 0.06)
        XCTAssertEqual(report.live?.throttledUsec, 34000)
        XCTAssertEqual(report.live?.cgroup, "/web1")
        XCTAssertNil(report.live?.cpuPressure)
        // The cron sample is stale and 40 s old: that concerns the load average, not the live figure.
        XCTAssertEqual(
            report.reading(receivedAt: now, maximumAge: .seconds(30)),
            .load(perCPU: 0.83, at: now, signal: .live(window: .seconds(10)), capacity: 0.06))
        // A capacity that is no number of CPUs is dropped; the figure stays usable.
        for bad in ["0", "-1", "1e9"] {
            let json = Self.liveJSON.replacingOccurrences(of: #""capacity":0.06"#, with: "\"capacity\":\(bad)")
            XCTAssertEqual(
                try decode(json).get().reading(receivedAt: now, maximumAge: .seconds(30)),
                .load(perCPU: 0.83, at: now, signal: .live(window: .seconds(10))), bad)
        }
    }

    func testRequestsInFlightPerCPUAreReadWhenAskedFor() throws {
        let json = Self.liveJSON.replacingOccurrences(of: #""in_flight":null"#, with: #""in_flight":1.5"#)
        let report = try decode(json).get()
        // 1.5 connections on 0.06 CPU: 25 per CPU, as an in-flight figure with the window.
        XCTAssertEqual(
            report.reading(receivedAt: now, maximumAge: .seconds(30), figure: .inFlight),
            .load(perCPU: 1.5 / 0.06, at: now, signal: .inFlight(window: .seconds(10)), capacity: 0.06))
        // The CPU figure of the same answer is unchanged.
        XCTAssertEqual(
            report.reading(receivedAt: now, maximumAge: .seconds(30)),
            .load(perCPU: 0.83, at: now, signal: .live(window: .seconds(10)), capacity: 0.06))
        // An agent that counts none (no --port, or an older one) is a failure that says what to give it.
        let uncounted = try decode(Self.liveJSON).get().reading(receivedAt: now, maximumAge: .seconds(30), figure: .inFlight)
        XCTAssertEqual(uncounted.failure?.kind, "malformed")
        XCTAssertTrue("\(uncounted.failure!)".contains("--port"), "\(uncounted.failure!)")
        let noCapacity = try decode(json.replacingOccurrences(of: #""capacity":0.06"#, with: #""capacity":0"#)).get()
        XCTAssertEqual(noCapacity.reading(receivedAt: now, maximumAge: .seconds(30), figure: .inFlight).failure?.kind, "malformed")
    }

    func testANullLiveFigureKeepsTheLoadAverage() throws {
        let report = try decode(#"{"server":"a","time":1,"age":2,"stale":false,"load":0.7,"live":null}"#).get()
        XCTAssertNil(report.live)
        XCTAssertEqual(report.reading(receivedAt: now, maximumAge: .seconds(180)), .load(perCPU: 0.7, at: now - .seconds(2)))
    }

    func testABrokenLiveFigureIsAFailureThatSaysWhere() throws {
        guard case .failure(let failure) = decode(#"{"server":"a","time":1,"age":2,"stale":false,"load":0.7,"live":{"window":10}}"#)
        else { return XCTFail("accepted") }
        XCTAssertTrue("\(failure)".contains("figure"), "\(failure)")
        let zeroWindow = try decode(#"{"server":"a","time":1,"age":2,"stale":false,"load":0.7,"live":{"figure":1,"window":0}}"#).get()
        XCTAssertEqual(zeroWindow.reading(receivedAt: now, maximumAge: .seconds(180)).failure?.kind, "malformed")
        let negative = try decode(#"{"server":"a","time":1,"age":2,"stale":false,"load":0.7,"live":{"figure":-1,"window":10}}"#).get()
        XCTAssertEqual(negative.reading(receivedAt: now, maximumAge: .seconds(180)).failure?.kind, "implausible")
    }

    func testTheWrongServerIsRefusedWithALiveFigureToo() throws {
        let report = try decode(Self.liveJSON).get()
        XCTAssertEqual(report.reading(receivedAt: now, maximumAge: .seconds(180), expectedServer: "web2").failure?.kind, "wrong_server")
    }
}
