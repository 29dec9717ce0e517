import Foundation
import NIOCore
import XCTest
@testable import LoadAgent

/// The window maths on injected instants: no waiting.
final class LiveWindowTests: XCTestCase {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    func at(_ seconds: Double) -> NIODeadline { start + .nanoseconds(Int64(seconds * 1e9)) }

    /// A cgroup with a 0.5-CPU quota whose counters grow by `perSecond` CPU and `throttledPerSecond` of 10 periods.
    func reading(_ second: Double, cpu perSecond: Double = 0.25, throttledPerSecond: UInt64 = 2, quota: Double? = 0.5) -> CPUReading {
        let throttling = quota.map { _ in
            CPUReading.Throttling(
                cgroup: "/web1", periods: UInt64(second * 10), throttledPeriods: UInt64(second) * throttledPerSecond,
                throttledMicroseconds: UInt64(second) * throttledPerSecond * 5000)
        }
        return CPUReading(
            usage: .cgroup(microseconds: UInt64(second * perSecond * 1e6)), onlineCPUs: 4, quota: quota, cpuset: nil,
            throttling: throttling, pressure: 12)
    }

    func testNoFigureBeforeOneSecond() {
        var window = LiveWindow()
        XCTAssertNil(window.live(source: "cgroup", cgroup: "/web1"))
        window.record(reading(0), at: at(0))
        XCTAssertNil(window.live(source: "cgroup", cgroup: "/web1"), "one reading")
        window.record(reading(0.5), at: at(0.5))
        XCTAssertNil(window.live(source: "cgroup", cgroup: "/web1"), "half a second")
        window.record(reading(1), at: at(1))
        XCTAssertEqual(window.live(source: "cgroup", cgroup: "/web1")?.window, 1)
    }

    func testUsageAgainstTheQuotaPlusTheThrottledShare() throws {
        var window = LiveWindow()
        for second in 0...4 { window.record(reading(Double(second)), at: at(Double(second))) }
        let live = try XCTUnwrap(window.live(source: "cgroup", cgroup: "/web1"))
        XCTAssertEqual(live.window, 4)
        XCTAssertEqual(live.usage, 0.25, accuracy: 1e-9)
        XCTAssertEqual(live.capacity, 0.5)
        XCTAssertEqual(try XCTUnwrap(live.throttled), 0.2, accuracy: 1e-9, "2 of 10 periods a second")
        XCTAssertEqual(live.throttledMicroseconds, 4 * 2 * 5000)
        XCTAssertEqual(live.figure, 0.5 + 0.2, accuracy: 1e-9, "usage/capacity + throttled share, not PSI")
        XCTAssertEqual(live.cpuPressure, 12)
        XCTAssertEqual(live.source, "cgroup")
        XCTAssertEqual(live.cgroup, "/web1")
    }

    func testInFlightIsTheMeanOfTheWindowsCounts() throws {
        var window = LiveWindow()
        // Counted at 2, 4, (not counted), 6: the mean of the three counts; the figure itself is CPU alone.
        for (second, count) in [(0, 2), (1, 4), (2, nil), (3, 6)] as [(Int, Int?)] {
            var r = reading(Double(second))
            r.inFlight = count
            window.record(r, at: at(Double(second)))
        }
        let live = try XCTUnwrap(window.live(source: "cgroup", cgroup: "/web1"))
        XCTAssertEqual(try XCTUnwrap(live.inFlight), 4, accuracy: 1e-9)
        XCTAssertEqual(live.figure, 0.5 + 0.2, accuracy: 1e-9)
        XCTAssertTrue(live.json.contains(#""in_flight":4}"#), live.json)
        // Never counted: null.
        var uncounted = LiveWindow()
        for second in 0...2 { uncounted.record(reading(Double(second)), at: at(Double(second))) }
        XCTAssertNil(try XCTUnwrap(uncounted.live(source: "cgroup", cgroup: "/web1")).inFlight)
    }

    func testTheWindowCoversTenSecondsThenSlides() throws {
        var window = LiveWindow()
        // 0.25 CPU for 20 s, then 0.5 CPU: after 10 s more the window holds only the new rate.
        var usage = 0.0
        for second in 0...30 {
            if second > 0 { usage += second <= 20 ? 0.25 : 0.5 }
            window.record(
                CPUReading(usage: .cgroup(microseconds: UInt64(usage * 1e6)), onlineCPUs: 2), at: at(Double(second) * 1.001))
            if second == 25 {
                XCTAssertEqual(try XCTUnwrap(window.live(source: "cgroup", cgroup: "/")).usage, 0.375, accuracy: 0.001)
            }
        }
        let live = try XCTUnwrap(window.live(source: "cgroup", cgroup: "/"))
        XCTAssertEqual(live.window, 10.01, accuracy: 1e-9, "ticks a little late: ten of them")
        XCTAssertEqual(live.usage, 0.5 / 1.001, accuracy: 1e-9)
        XCTAssertEqual(live.capacity, 2, "no quota, no cpuset: the online CPUs")
        XCTAssertEqual(live.figure, 0.25 / 1.001, accuracy: 1e-9, "no throttling, no PSI: no saturation term")
        XCTAssertNil(live.throttled)
        XCTAssertNil(live.throttledMicroseconds)
        XCTAssertLessThanOrEqual(window.readings.count, 12)
    }

    func testWithoutAQuotaPressureIsTheSaturation() throws {
        var window = LiveWindow()
        window.record(reading(0, cpu: 3, quota: nil), at: at(0))
        window.record(reading(2, cpu: 3, quota: nil), at: at(2))
        let live = try XCTUnwrap(window.live(source: "cgroup", cgroup: "/web1"))
        XCTAssertEqual(live.usage, 3, accuracy: 1e-9)
        XCTAssertEqual(live.capacity, 4)
        XCTAssertEqual(live.figure, 0.75 + 0.12, accuracy: 1e-9)
        XCTAssertNil(live.throttled)
    }

    func testTheFigureIsAtMostTwo() throws {
        var window = LiveWindow()
        window.record(reading(0, cpu: 2, throttledPerSecond: 20), at: at(0))
        window.record(reading(1, cpu: 2, throttledPerSecond: 20), at: at(1))
        let live = try XCTUnwrap(window.live(source: "cgroup", cgroup: "/web1"))
        XCTAssertEqual(live.usage, 2, accuracy: 1e-9, "usage itself is reported as measured")
        XCTAssertEqual(live.figure, 2)
    }

    func testCountersGoingBackwardsStartANewWindow() throws {
        var window = LiveWindow()
        for second in 0...5 { window.record(reading(Double(second)), at: at(Double(second))) }
        // The service restarted: a new cgroup, its counters from zero.
        window.record(reading(0.2), at: at(6))
        XCTAssertNil(window.live(source: "cgroup", cgroup: "/web1"))
        window.record(reading(1.2), at: at(7))
        XCTAssertEqual(try XCTUnwrap(window.live(source: "cgroup", cgroup: "/web1")).window, 1)
        window.reset()
        XCTAssertNil(window.live(source: "cgroup", cgroup: "/web1"))
    }

    func testThrottlingOnlyBetweenCountersOfOneCgroup() throws {
        var window = LiveWindow()
        var first = reading(0)
        first.throttling?.cgroup = "/slice"
        window.record(first, at: at(0))
        window.record(reading(1), at: at(1))
        window.record(reading(3), at: at(3))
        let live = try XCTUnwrap(window.live(source: "cgroup", cgroup: "/web1"))
        XCTAssertEqual(live.window, 3)
        XCTAssertEqual(live.throttledMicroseconds, 2 * 2 * 5000, "from the first reading of /web1's counters")
    }

    func testHostUsageIsTheBusyShareOfTheCPUs() throws {
        var window = LiveWindow()
        window.record(CPUReading(usage: .host(busy: 1000, total: 10_000), onlineCPUs: 2, pressure: 50), at: at(0))
        window.record(CPUReading(usage: .host(busy: 1300, total: 10_400), onlineCPUs: 2, pressure: 50), at: at(2))
        let live = try XCTUnwrap(window.live(source: "host", cgroup: nil))
        XCTAssertEqual(live.usage, 1.5, accuracy: 1e-9, "300 of 400 jiffies on 2 CPUs")
        XCTAssertEqual(live.figure, 0.75 + 0.5, accuracy: 1e-9)
    }

    func testJSONIsTheContract() throws {
        let live = LiveLoad(
            figure: 0.83333333, window: 10.004, source: "cgroup", cgroup: "/web\"1", capacity: 0.06, usage: 0.05,
            throttled: 0.4, throttledMicroseconds: 34000, cpuPressure: nil)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(live.json.utf8)) as? [String: Any])
        XCTAssertEqual(
            Set(object.keys),
            ["figure", "window", "source", "cgroup", "capacity", "usage", "throttled", "throttled_usec", "cpu_pressure",
             "in_flight"])
        XCTAssertEqual(object["figure"] as? Double, 0.8333)
        XCTAssertEqual(object["window"] as? Double, 10.004)
        XCTAssertEqual(object["source"] as? String, "cgroup")
        XCTAssertEqual(object["cgroup"] as? String, "/web\"1")
        XCTAssertEqual(object["capacity"] as? Double, 0.06)
        XCTAssertEqual(object["throttled_usec"] as? Int, 34000)
        XCTAssertTrue(object["cpu_pressure"] is NSNull)
        XCTAssertTrue(object["in_flight"] is NSNull)
        let host = LiveLoad(
            figure: 0, window: 1, source: "host", cgroup: nil, capacity: 2, usage: 0, throttled: nil,
            throttledMicroseconds: nil, cpuPressure: 1.5)
        XCTAssertTrue(host.json.contains("\"cgroup\":null,"), host.json)
        XCTAssertTrue(host.json.contains("\"throttled\":null,\"throttled_usec\":null,\"cpu_pressure\":1.5"), host.json)
    }
}
