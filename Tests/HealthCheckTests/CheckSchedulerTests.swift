import HostSystem
import TestSupport
import XCTest

@testable import HealthCheck

final class CheckSchedulerTests: XCTestCase {
    typealias Scheduler = CheckScheduler<String, TestInstant>

    func testDueChecksComeOutEarliestFirstAndOnlyWhenDue() {
        var scheduler = Scheduler()
        scheduler.schedule("c", at: .seconds(3))
        scheduler.schedule("a", at: .seconds(1))
        scheduler.schedule("b", at: .seconds(2))
        XCTAssertEqual(scheduler.nextDeadline, .seconds(1))
        XCTAssertEqual(scheduler.popDue(now: .seconds(0.5)), [])
        XCTAssertEqual(scheduler.popDue(now: .seconds(2)).map(\.id), ["a", "b"])
        XCTAssertEqual(scheduler.count, 1)
        XCTAssertEqual(scheduler.nextDeadline, .seconds(3))
        XCTAssertEqual(scheduler.popDue(now: .seconds(10)), [Scheduler.Due(id: "c", deadline: .seconds(3))])
        XCTAssertNil(scheduler.nextDeadline)
    }

    func testEqualDeadlinesComeOutInSchedulingOrder() {
        var scheduler = Scheduler()
        for id in ["x", "y", "z", "w"] { scheduler.schedule(id, at: .seconds(1)) }
        XCTAssertEqual(scheduler.popDue(now: .seconds(1)).map(\.id), ["x", "y", "z", "w"])
    }

    func testReschedulingReplacesAndCancellingForgets() {
        var scheduler = Scheduler()
        scheduler.schedule("a", at: .seconds(1))
        scheduler.schedule("b", at: .seconds(2))
        scheduler.schedule("a", at: .seconds(5))
        XCTAssertEqual(scheduler.nextDeadline, .seconds(2))
        XCTAssertEqual(scheduler.deadline(of: "a"), .seconds(5))
        scheduler.cancel("b")
        XCTAssertEqual(scheduler.nextDeadline, .seconds(5))
        XCTAssertEqual(scheduler.popDue(now: .seconds(4)), [])
        XCTAssertEqual(scheduler.popDue(now: .seconds(5)).map(\.id), ["a"])
        XCTAssertEqual(scheduler.count, 0)
    }

    func testAgreesWithASimpleModelUnderRandomOperations() {
        var generator = SplitMix64(seed: 42)
        var scheduler = Scheduler()
        var model: [String: TestInstant] = [:]
        var now = TestInstant.zero
        for _ in 0..<20_000 {
            let id = "t\(generator.next() % 300)"
            switch generator.next() % 4 {
            case 0, 1:
                let deadline = now.advanced(by: .milliseconds(Int64(generator.next() % 5_000)))
                scheduler.schedule(id, at: deadline)
                model[id] = deadline
            case 2:
                scheduler.cancel(id)
                model[id] = nil
            default:
                now = now.advanced(by: .milliseconds(Int64(generator.next() % 500)))
                let due = scheduler.popDue(now: now)
                let expected = model.filter { $0.value <= now }
                XCTAssertEqual(Set(due.map(\.id)), Set(expected.keys))
                XCTAssertEqual(due.map(\.deadline), due.map(\.deadline).sorted())
                for item in due { XCTAssertEqual(item.deadline, model[item.id]) }
                for id in expected.keys { model[id] = nil }
            }
            XCTAssertEqual(scheduler.count, model.count)
            XCTAssertEqual(scheduler.nextDeadline, model.values.min())
        }
    }

    func testChecksKeepAFixedRateWhileTheyFinishInTime() {
        let next = Scheduler.followingDeadline(
            after: .seconds(10), completedAt: .seconds(10.3), interval: .seconds(1), jitter: 0, random: 0.9)
        XCTAssertEqual(next, .seconds(11))
    }

    func testACheckThatOverranItsIntervalIsFollowedOneIntervalAfterItCompleted() {
        // A 10 s timeout with a 2 s interval: the next check waits 2 s after the timeout, not 0.
        let next = Scheduler.followingDeadline(
            after: .seconds(10), completedAt: .seconds(20), interval: .seconds(2), jitter: 0, random: 0.5)
        XCTAssertEqual(next, .seconds(22))
    }

    func testRandomJitterStaysWithinItsFraction() {
        var generator = SplitMix64(seed: 7)
        var seen: [Duration] = []
        for _ in 0..<1_000 {
            let next = Scheduler.followingDeadline(
                after: .zero, completedAt: .zero, interval: .seconds(2), jitter: 0.1,
                random: Double.random(in: 0...1, using: &generator))
            XCTAssertGreaterThanOrEqual(next.offset, .milliseconds(1_800))
            XCTAssertLessThanOrEqual(next.offset, .milliseconds(2_200))
            seen.append(next.offset)
        }
        // It does spread: both halves of the range are used.
        XCTAssertTrue(seen.contains { $0 < .milliseconds(1_900) })
        XCTAssertTrue(seen.contains { $0 > .milliseconds(2_100) })
    }

    func testSpreadOffsetsAreDeterministicAndSpreadTenThousandTargetsEvenly() {
        let interval = Duration.seconds(1)
        XCTAssertEqual(
            Scheduler.spreadOffset(for: "10.0.0.2:80 web", interval: interval),
            Scheduler.spreadOffset(for: "10.0.0.2:80 web", interval: interval))
        var perTenth = [Int](repeating: 0, count: 10)
        var perMillisecond: [Int64: Int] = [:]
        for index in 0..<10_000 {
            let key = "127.0.\(index / 250).\(index % 250 + 1):\(8_000 + index % 7) vs\(index % 3)"
            let offset = Scheduler.spreadOffset(for: key, interval: interval)
            XCTAssertGreaterThanOrEqual(offset, .zero)
            XCTAssertLessThan(offset, interval)
            let millis = offset.components.attoseconds / 1_000_000_000_000_000
            perTenth[Int(millis / 100)] += 1
            perMillisecond[millis, default: 0] += 1
        }
        for count in perTenth { XCTAssertEqual(Double(count), 1_000, accuracy: 150, "\(perTenth)") }
        XCTAssertLessThanOrEqual(perMillisecond.values.max() ?? 0, 30, "too many checks in one millisecond")
    }
}

