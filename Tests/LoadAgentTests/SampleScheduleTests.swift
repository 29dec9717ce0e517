import XCTest
@testable import LoadAgent

final class SampleScheduleTests: XCTestCase {
    typealias P = SampleSchedule.Point

    func testAlignsDownToTheStep() {
        XCTAssertEqual(SampleSchedule.aligned(1_700_000_041, step: 60), 1_700_000_040)
        XCTAssertEqual(SampleSchedule.aligned(120, step: 60), 120)
        XCTAssertEqual(SampleSchedule.aligned(179, step: 60), 120)
        XCTAssertEqual(SampleSchedule.aligned(1_700_000_100, step: 60), 1_700_000_100)
    }

    func testNextMinuteWritesOnePoint() {
        XCTAssertEqual(
            SampleSchedule.decide(now: 185, lastUpdate: 120, value: 0.5, step: 60), .write([P(time: 180, value: 0.5)]))
    }

    func testMissedMinutesBecomeUnknownNotTheNewValue() {
        // Last at 120, now 310: minutes 180 and 240 were missed; 240 is written unknown, then 300 the value.
        XCTAssertEqual(
            SampleSchedule.decide(now: 310, lastUpdate: 120, value: 2, step: 60),
            .write([P(time: 240, value: nil), P(time: 300, value: 2)]))
    }

    func testDuplicateOrLateRunSkips() {
        guard case .skip(let reason) = SampleSchedule.decide(now: 179, lastUpdate: 120, value: 1, step: 60) else {
            return XCTFail("a second run within the minute must skip")
        }
        XCTAssertTrue(reason.contains("already sampled"), reason)
        guard case .skip = SampleSchedule.decide(now: 100, lastUpdate: 120, value: 1, step: 60) else {
            return XCTFail("a clock behind the last sample must skip, not fail")
        }
    }

    func testUnknownValueIsWrittenAsUnknown() {
        XCTAssertEqual(SampleSchedule.decide(now: 180, lastUpdate: 120, value: nil, step: 60), .write([P(time: 180, value: nil)]))
    }

    func testValidationTurnsJunkIntoUnknown() {
        XCTAssertNil(RRDStore.validated(.nan, for: .load))
        XCTAssertNil(RRDStore.validated(.infinity, for: .load1))
        XCTAssertNil(RRDStore.validated(-1, for: .memUsed))
        XCTAssertNil(RRDStore.validated(1.5, for: .cpuUtil), "utilisation is at most 1")
        XCTAssertEqual(RRDStore.validated(0.25, for: .cpuUtil), 0.25)
        XCTAssertEqual(RRDStore.validated(3, for: .tcpEstablished), 3)
    }
}
