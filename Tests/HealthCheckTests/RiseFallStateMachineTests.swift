import TestSupport
import XCTest

@testable import HealthCheck

final class RiseFallStateMachineTests: XCTestCase {
    typealias Machine = RiseFallStateMachine<TestInstant>
    let refused = HealthCheckFailure.connectionFailed("Connection refused")

    func testFirstSuccessMarksAnUnknownServerUpAtOnce() {
        var machine = Machine()
        XCTAssertEqual(machine.health, .unknown)
        XCTAssertEqual(machine.checkSucceeded(at: .zero), .markUp)
        XCTAssertEqual(machine.health, .up)
        XCTAssertEqual(machine.checkSucceeded(at: .seconds(2)), .none)
    }

    func testByDefaultOneFailureTakesAServerOut() {
        var machine = Machine()
        _ = machine.checkSucceeded(at: .zero)
        XCTAssertEqual(machine.checkFailed(at: .seconds(2), reason: refused), .markDown(refused))
        XCTAssertEqual(machine.health, .down(refused))
        // Further failures are no transition; the state shows the latest reason.
        XCTAssertEqual(machine.checkFailed(at: .seconds(4), reason: .timeout), .none)
        XCTAssertEqual(machine.health, .down(.timeout))
    }

    func testAnUnknownServerThatFailsIsMarkedDown() {
        var machine = Machine()
        XCTAssertEqual(machine.checkFailed(at: .zero, reason: .timeout), .markDown(.timeout))
    }

    func testFallNeedsNConsecutiveFailures() {
        var machine = Machine(fall: 3, reentry: .seconds(10))
        _ = machine.checkSucceeded(at: .zero)
        XCTAssertEqual(machine.checkFailed(at: .seconds(1), reason: .timeout), .none)
        XCTAssertEqual(machine.checkFailed(at: .seconds(2), reason: .timeout), .none)
        // A success in between resets the count.
        XCTAssertEqual(machine.checkSucceeded(at: .seconds(3)), .none)
        XCTAssertEqual(machine.checkFailed(at: .seconds(4), reason: .timeout), .none)
        XCTAssertEqual(machine.checkFailed(at: .seconds(5), reason: .timeout), .none)
        XCTAssertEqual(machine.health, .up)
        XCTAssertEqual(machine.checkFailed(at: .seconds(6), reason: refused), .markDown(refused))
        XCTAssertEqual(machine.health, .down(refused))
    }

    func testFallAppliesToUnknownServersToo() {
        var machine = Machine(fall: 2, reentry: .seconds(10))
        XCTAssertEqual(machine.checkFailed(at: .zero, reason: .timeout), .none)
        XCTAssertEqual(machine.health, .unknown)
        XCTAssertEqual(machine.checkFailed(at: .seconds(1), reason: .timeout), .markDown(.timeout))
    }

    func testReentryNeedsSuccessesForTheWholeReentryTime() {
        var clock = TestClock()
        var machine = Machine(fall: 1, reentry: .seconds(180))
        _ = machine.checkSucceeded(at: clock.now)
        clock.advance(by: .seconds(2))
        XCTAssertEqual(machine.checkFailed(at: clock.now, reason: refused), .markDown(refused))
        let firstSuccess = clock.now.advanced(by: .seconds(2))
        var markedUpAt: TestInstant?
        for _ in 0..<200 {
            clock.advance(by: .seconds(2))
            if machine.checkSucceeded(at: clock.now) == .markUp {
                markedUpAt = clock.now
                break
            }
            XCTAssertEqual(machine.health, .down(refused))
        }
        XCTAssertEqual(markedUpAt, firstSuccess.advanced(by: .seconds(180)))
        XCTAssertEqual(machine.health, .up)
    }

    func testAFailureRestartsTheReentryRun() {
        var machine = Machine(fall: 1, reentry: .seconds(10))
        _ = machine.checkFailed(at: .zero, reason: refused)
        XCTAssertEqual(machine.checkSucceeded(at: .seconds(1)), .none)
        XCTAssertEqual(machine.earliestReentry, .seconds(11))
        XCTAssertEqual(machine.checkSucceeded(at: .seconds(9)), .none)
        XCTAssertEqual(machine.checkFailed(at: .seconds(10), reason: .timeout), .none)
        XCTAssertNil(machine.earliestReentry)
        XCTAssertEqual(machine.checkSucceeded(at: .seconds(11)), .none)  // old run would have ended here
        XCTAssertEqual(machine.checkSucceeded(at: .seconds(20)), .none)
        XCTAssertEqual(machine.checkSucceeded(at: .seconds(21)), .markUp)
    }

    func testZeroReentryReturnsAtTheFirstSuccess() {
        var machine = Machine(fall: 1, reentry: .zero)
        _ = machine.checkFailed(at: .zero, reason: refused)
        XCTAssertEqual(machine.checkSucceeded(at: .seconds(1)), .markUp)
    }

    func testAFlappingServerStaysOutAndIsNotMovedFasterThanReentry() {
        // Every third check fails, for an hour, checked every 2 s: with reentry 30 s the server never comes back.
        var machine = Machine(fall: 1, reentry: .seconds(30))
        var transitions: [Machine.Action] = []
        for step in 0..<1_800 {
            let now = TestInstant.seconds(Double(step * 2))
            let action =
                step % 3 == 2 ? machine.checkFailed(at: now, reason: .timeout) : machine.checkSucceeded(at: now)
            if action != .none { transitions.append(action) }
        }
        XCTAssertEqual(transitions, [.markUp, .markDown(.timeout)])

        // Failing once every 40 s: out and back in, but never more often than once per reentry + interval.
        var machine2 = Machine(fall: 1, reentry: .seconds(30))
        var changes: [(TestInstant, Machine.Action)] = []
        for step in 0..<1_800 {
            let now = TestInstant.seconds(Double(step * 2))
            let action =
                step % 20 == 19 ? machine2.checkFailed(at: now, reason: .timeout) : machine2.checkSucceeded(at: now)
            if action != .none { changes.append((now, action)) }
        }
        let downs = changes.filter { if case .markDown = $0.1 { true } else { false } }.map(\.0)
        XCTAssertGreaterThan(downs.count, 10)
        for (earlier, later) in zip(downs, downs.dropFirst()) {
            XCTAssertGreaterThanOrEqual(earlier.duration(to: later), .seconds(32))
        }
        // Each return comes at least reentry after the failure that took it out.
        for (index, change) in changes.enumerated() where change.1 == .markUp && index > 0 {
            XCTAssertGreaterThanOrEqual(changes[index - 1].0.duration(to: change.0), .seconds(30))
        }
    }

    func testTimingDefaultsAreTheOnesOfPiranha() throws {
        let timing = HealthCheckTiming.piranha
        XCTAssertEqual(timing.timeout, .seconds(10))
        XCTAssertEqual(timing.reentry, .seconds(180))
        XCTAssertEqual(timing.fall, 1)
        XCTAssertEqual(try HealthCheckTiming(), timing)
        let machine = RiseFallStateMachine<TestInstant>(timing: timing)
        XCTAssertEqual(machine.fall, 1)
        XCTAssertEqual(machine.reentry, .seconds(180))
    }

    func testInvalidTimingIsRejectedWithAMessage() {
        XCTAssertThrowsError(try HealthCheckTiming(timeout: .zero)) { error in
            XCTAssertTrue("\(error)".contains("timeout must be positive"), "\(error)")
        }
        XCTAssertThrowsError(try HealthCheckTiming(fall: 0))
        XCTAssertThrowsError(try HealthCheckTiming(interval: .seconds(-1)))
        XCTAssertThrowsError(try HealthCheckTiming(jitter: 0.9))
    }
}
