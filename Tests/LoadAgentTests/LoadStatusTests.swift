import Foundation
import XCTest
@testable import LoadAgent

final class LoadStatusTests: XCTestCase {
    let sample = LoadSample(
        time: 1_800_000_000, load1: 3, load5: 2.5, load15: 1.25, cpus: 4, cpuUtil: 0.5, memUsed: 1_073_741_824,
        memAvailable: 3_221_225_472, tcpEstablished: 17, busyWorkers: nil)

    func testLoadIsLoad1PerCPU() {
        XCTAssertEqual(sample.load, 0.75)
        XCTAssertNil(LoadSample(time: 0, load1: 1, cpus: 0).load)
        XCTAssertNil(LoadSample(time: 0, load1: nil, cpus: 2).load)
    }

    func testJSONSchema() throws {
        let status = LoadStatus(server: "web\"1", sample: sample, now: 1_800_000_030)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(status.json.utf8)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["server", "time", "age", "stale", "load", "metrics", "live"])
        XCTAssertTrue(object["live"] is NSNull, "no live figure yet")
        XCTAssertEqual(object["server"] as? String, "web\"1")
        XCTAssertEqual(object["time"] as? Int, 1_800_000_000)
        XCTAssertEqual(object["age"] as? Int, 30)
        XCTAssertEqual(object["stale"] as? Bool, false)
        XCTAssertEqual(object["load"] as? Double, 0.75)
        let metrics = try XCTUnwrap(object["metrics"] as? [String: Any])
        XCTAssertEqual(
            Set(metrics.keys),
            ["load1", "load5", "load15", "cpus", "cpu_util", "mem_used", "mem_available", "tcp_established", "busy_workers"])
        XCTAssertEqual(metrics["load1"] as? Double, 3)
        XCTAssertEqual(metrics["load15"] as? Double, 1.25)
        XCTAssertEqual(metrics["cpus"] as? Int, 4)
        XCTAssertEqual(metrics["cpu_util"] as? Double, 0.5)
        XCTAssertEqual(metrics["mem_used"] as? Int, 1_073_741_824)
        XCTAssertEqual(metrics["mem_available"] as? Int, 3_221_225_472)
        XCTAssertEqual(metrics["tcp_established"] as? Int, 17)
        XCTAssertTrue(metrics["busy_workers"] is NSNull)
        XCTAssertFalse(status.json.contains("\"cpus\":4.0"), "integers are written as integers")

        let live = LiveLoad(
            figure: 0.5, window: 10, source: "cgroup", cgroup: "/web1", capacity: 0.06, usage: 0.03, throttled: 0,
            throttledMicroseconds: 0, cpuPressure: nil)
        let withLive = LoadStatus(server: "web1", sample: sample, now: 1_800_000_030, live: live)
        let liveObject = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(withLive.json.utf8)) as? [String: Any])
        XCTAssertEqual((liveObject["live"] as? [String: Any])?["figure"] as? Double, 0.5)
        XCTAssertEqual(liveObject["load"] as? Double, 0.75, "the old figure stays beside it")
    }

    func testStaleAfter180Seconds() {
        XCTAssertFalse(LoadStatus(server: "a", sample: sample, now: sample.time + 180).stale)
        let stale = LoadStatus(server: "a", sample: sample, now: sample.time + 181)
        XCTAssertTrue(stale.stale)
        XCTAssertTrue(stale.json.contains("\"stale\":true"))
        XCTAssertNotNil(stale.unusableReason)
        XCTAssertNil(LoadStatus(server: "a", sample: sample, now: sample.time + 5).unusableReason)
        XCTAssertEqual(LoadStatus(server: "a", sample: sample, now: sample.time - 10).age, 0)
    }

    func testLoadLine() {
        XCTAssertEqual(LoadStatus(server: "a", sample: sample, now: sample.time).loadLine, "0.750000\n")
    }
}
