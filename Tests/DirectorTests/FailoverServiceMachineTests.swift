import TestSupport
import XCTest

@testable import Director

final class FailoverServiceMachineTests: XCTestCase {
    typealias Machine = FailoverServiceMachine<TestInstant>

    func machine(_ services: [String] = ["web"]) -> Machine {
        Machine(
            configuration: .init(
                services: services, interval: Dictionary(uniqueKeysWithValues: services.map { ($0, .seconds(2)) }),
                holdDown: .seconds(30), maximumHoldDown: .seconds(120), retryDelay: .seconds(5)))
    }

    /// Active, `web` started at t=0 and running (first check due at 2 s).
    func running() -> Machine {
        var m = machine()
        XCTAssertEqual(m.roleChanged(active: true, now: .zero), [.run(.start, service: "web")])
        XCTAssertEqual(
            m.commandFinished("web", .start, succeeded: true, now: .zero), [.scheduleTimer(at: .seconds(2))])
        return m
    }

    func testActiveStartsEveryServiceAndChecksEachEveryInterval() {
        var m = machine(["web", "ftp"])
        XCTAssertEqual(m.roleChanged(active: true, now: .zero), [.run(.start, service: "web"), .run(.start, service: "ftp")])
        XCTAssertEqual(m.commandFinished("web", .start, succeeded: true, now: .seconds(1)), [.scheduleTimer(at: .seconds(3))])
        XCTAssertEqual(m.timerFired(now: .seconds(2)), [.scheduleTimer(at: .seconds(3))], "early: nothing due")
        XCTAssertEqual(m.timerFired(now: .seconds(3)), [.check(service: "web")], "no second check while one runs")
        XCTAssertEqual(m.checkFinished("web", passed: true, now: .seconds(3.5)), [.scheduleTimer(at: .seconds(5.5))])
        XCTAssertEqual(m.phases["ftp"], .starting(thenStop: false))
        XCTAssertFalse(m.failed)
    }

    func testBackupRunsNothingAndSteppingDownStopsTheServices() {
        var m = machine()
        XCTAssertEqual(m.roleChanged(active: false, now: .zero), [], "a director starts as backup: nothing to stop")
        m = running()
        XCTAssertEqual(m.roleChanged(active: false, now: .seconds(1)), [.run(.stop, service: "web")])
        XCTAssertEqual(m.timerFired(now: .seconds(10)), [], "no checks while backup")
        XCTAssertEqual(m.commandFinished("web", .stop, succeeded: true, now: .seconds(1)), [])
        XCTAssertEqual(m.phases["web"], .stopped)
    }

    func testStepDownDuringStartStopsTheServiceOnceStarted() {
        var m = machine()
        _ = m.roleChanged(active: true, now: .zero)
        XCTAssertEqual(m.roleChanged(active: false, now: .seconds(1)), [])
        XCTAssertEqual(m.commandFinished("web", .start, succeeded: true, now: .seconds(2)), [.run(.stop, service: "web")])
    }

    func testFailedCheckStopsEveryServiceAndFailsTheDirectorUntilTheHoldDownEnds() {
        var m = machine(["web", "ftp"])
        _ = m.roleChanged(active: true, now: .zero)
        _ = m.commandFinished("web", .start, succeeded: true, now: .zero)
        _ = m.commandFinished("ftp", .start, succeeded: true, now: .zero)
        XCTAssertEqual(m.timerFired(now: .seconds(2)), [.check(service: "web"), .check(service: "ftp")])
        _ = m.checkFinished("web", passed: true, now: .seconds(2))
        XCTAssertEqual(
            m.checkFinished("ftp", passed: false, now: .seconds(2)),
            [.run(.stop, service: "web"), .run(.stop, service: "ftp"), .setServicesFailed(true)],
            "every service is stopped, the failed one too (it may be half alive)")
        XCTAssertTrue(m.failed)
        XCTAssertEqual(m.failures, 1)
        // The heartbeat hands over: backup now. The stops finish; the hold-down (30 s) then ends the failure.
        _ = m.roleChanged(active: false, now: .seconds(2.1))
        XCTAssertEqual(m.commandFinished("web", .stop, succeeded: true, now: .seconds(3)), [.scheduleTimer(at: .seconds(32))])
        XCTAssertEqual(m.commandFinished("ftp", .stop, succeeded: false, now: .seconds(3)), [.scheduleTimer(at: .seconds(32))])
        XCTAssertEqual(m.timerFired(now: .seconds(31)), [.scheduleTimer(at: .seconds(32))])
        XCTAssertEqual(m.timerFired(now: .seconds(32)), [.setServicesFailed(false)])
        XCTAssertFalse(m.failed)
    }

    func testAFailedStartFailsTheDirectorToo() {
        var m = machine()
        _ = m.roleChanged(active: true, now: .zero)
        XCTAssertEqual(
            m.commandFinished("web", .start, succeeded: false, now: .seconds(1)),
            [.run(.stop, service: "web"), .setServicesFailed(true)])
    }

    /// The peer is dead or failed too: the heartbeat keeps this director active. It keeps the VIPs and starts the
    /// services again after a retry delay that doubles (5, 10, 20, then the hold-down's 30 s); a passing check ends
    /// the failure.
    func testFailedDirectorThatStaysActiveRetriesWithBackoffUntilTheServicePasses() {
        var m = running()
        var now = TestInstant.seconds(2)
        var retries: [Duration] = []
        for _ in 0..<5 {
            XCTAssertEqual(m.timerFired(now: now), [.check(service: "web")])
            let failing = m.checkFinished("web", passed: false, now: now)
            XCTAssertEqual(failing.first, .run(.stop, service: "web"))
            guard case .scheduleTimer(let retryAt)? = m.commandFinished("web", .stop, succeeded: true, now: now).last
            else { return XCTFail("no retry timer") }
            retries.append(now.duration(to: retryAt))
            XCTAssertEqual(m.timerFired(now: retryAt), [.run(.start, service: "web")])
            _ = m.commandFinished("web", .start, succeeded: true, now: retryAt)
            now = retryAt.advanced(by: .seconds(2))
        }
        XCTAssertEqual(retries, [.seconds(5), .seconds(10), .seconds(20), .seconds(30), .seconds(30)])
        XCTAssertEqual(m.consecutiveFailures, 5)
        XCTAssertTrue(m.failed)
        XCTAssertEqual(m.timerFired(now: now), [.check(service: "web")])
        XCTAssertEqual(m.checkFinished("web", passed: true, now: now), [.setServicesFailed(false), .scheduleTimer(at: now.advanced(by: .seconds(2)))])
        XCTAssertFalse(m.failed)
    }

    func testHoldDownDoublesWithConsecutiveFailuresAndIsForgottenAfterAHealthyHoldDown() {
        let m = machine()
        XCTAssertEqual((1...5).map { m.holdDown(afterFailures: $0) }, [30, 60, 120, 120, 120].map { .seconds($0) })
        var r = running()
        var now = TestInstant.seconds(2)
        _ = r.timerFired(now: now)
        _ = r.checkFinished("web", passed: false, now: now)
        _ = r.commandFinished("web", .stop, succeeded: true, now: now)
        now = now.advanced(by: .seconds(5))
        _ = r.timerFired(now: now)
        _ = r.commandFinished("web", .start, succeeded: true, now: now)
        // Passing checks every 2 s for longer than the hold-down (30 s): the failure count is forgotten.
        for _ in 0..<17 {
            now = now.advanced(by: .seconds(2))
            _ = r.timerFired(now: now)
            _ = r.checkFinished("web", passed: true, now: now)
        }
        XCTAssertFalse(r.failed)
        XCTAssertEqual(r.consecutiveFailures, 0)
        XCTAssertEqual(r.failures, 1, "the total stays counted")
    }

    func testBecomingActiveWhileFailedStartsAtOnce() {
        var m = running()
        _ = m.timerFired(now: .seconds(2))
        _ = m.checkFinished("web", passed: false, now: .seconds(2))
        _ = m.roleChanged(active: false, now: .seconds(2))
        _ = m.commandFinished("web", .stop, succeeded: true, now: .seconds(2.5))
        // The peer dies: this director, still in its hold-down, takes over and tries at once.
        XCTAssertEqual(m.roleChanged(active: true, now: .seconds(4)).first, .run(.start, service: "web"))
    }

    func testAtStartEveryServiceIsStoppedOnceAndAnEarlyTakeoverWaitsForTheStops() {
        var m = machine(["web", "ftp"])
        XCTAssertEqual(m.cleanUp(now: .zero), [.run(.stop, service: "web"), .run(.stop, service: "ftp")])
        XCTAssertEqual(m.cleanUp(now: .zero), [], "once")
        XCTAssertEqual(m.roleChanged(active: true, now: .seconds(0.1)), [], "the stops run")
        XCTAssertEqual(m.commandFinished("web", .stop, succeeded: false, now: .seconds(0.2)), [.run(.start, service: "web")])
        XCTAssertFalse(m.failed, "a failed stop_cmd is counted by the executor, it fails nothing")
        XCTAssertEqual(m.commandFinished("ftp", .stop, succeeded: true, now: .seconds(0.3)), [.run(.start, service: "ftp")])
    }

    func testCleanStopStopsRunningAndStartingServicesAndNothingAfter() {
        var m = machine(["web", "ftp"])
        _ = m.roleChanged(active: true, now: .zero)
        _ = m.commandFinished("web", .start, succeeded: true, now: .zero)
        XCTAssertEqual(m.stop(now: .seconds(1)), [.run(.stop, service: "web")])
        XCTAssertEqual(m.commandFinished("ftp", .start, succeeded: true, now: .seconds(1.5)), [.run(.stop, service: "ftp")])
        XCTAssertEqual(m.roleChanged(active: false, now: .seconds(1.6)), [], "the shutdown's role change adds nothing")
        _ = m.commandFinished("web", .stop, succeeded: true, now: .seconds(2))
        XCTAssertFalse(m.allStopped)
        _ = m.commandFinished("ftp", .stop, succeeded: false, now: .seconds(2))
        XCTAssertTrue(m.allStopped)
        XCTAssertEqual(m.timerFired(now: .seconds(100)), [])
    }

    func testCommandRunnerUsesAFixedEnvironmentKeepsOutputAndKillsAtTheTimeLimit() {
        setenv("H2E_FOS_TEST_SECRET", "inherited", 1)
        let ok = FailoverCommandRunner.run(
            "echo out; echo err >&2; echo \"$PATH ${H2E_FOS_TEST_SECRET-unset} ${HOME-unset}\"", timeLimit: .seconds(10))
        XCTAssertNil(ok.failure)
        XCTAssertEqual(ok.output, "out\nerr\n/usr/sbin:/usr/bin:/sbin:/bin unset unset\n", "nothing of the daemon's environment")
        XCTAssertEqual(FailoverCommandRunner.run("exit 3", timeLimit: .seconds(10)).failure, "exited with status 3")
        let big = FailoverCommandRunner.run("head -c 10000 /dev/zero", timeLimit: .seconds(10))
        XCTAssertEqual(big.output.utf8.count, FailoverCommandRunner.outputLimit)
        XCTAssertEqual(big.droppedOutput, 10000 - FailoverCommandRunner.outputLimit)
        let slow = FailoverCommandRunner.run("sleep 30", timeLimit: .milliseconds(300))
        XCTAssertEqual(slow.failure, "killed after its time limit of 0.3 seconds")
        // A service left running in the background (output redirected) does not hold the command up.
        let daemon = FailoverCommandRunner.run("sleep 30 </dev/null >/dev/null 2>&1 & echo $! ; echo started", timeLimit: .seconds(10))
        XCTAssertNil(daemon.failure)
        let pid = daemon.output.split(separator: "\n").first.flatMap { Int32($0) }
        XCTAssertNotNil(pid)
        if let pid { XCTAssertEqual(kill(pid, 0), 0, "the background service was killed"); kill(pid, SIGKILL) }
    }
}
