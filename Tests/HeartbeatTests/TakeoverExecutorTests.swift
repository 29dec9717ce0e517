import Foundation
import XCTest

@testable import Heartbeat

/// Records every call; fails the operations it is told to.
actor RecordingSystem: TakeoverSystem {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    var calls: [String] = []
    let failing: Set<String>

    init(failing: Set<String> = []) { self.failing = failing }

    private func record(_ call: String) throws {
        calls.append(call)
        if failing.contains(call) { throw Failure(description: "\(call) failed") }
    }

    func add(_ address: VirtualAddress) throws { try record("add \(address.address)") }
    func remove(_ address: VirtualAddress) throws { try record("remove \(address.address)") }
    func announce(_ address: VirtualAddress) throws { try record("announce \(address.address)") }
    func run(command: String) throws { try record("run \(command)") }
}

final class TakeoverExecutorTests: XCTestCase {
    let a = try! VirtualAddress(address: "10.0.0.1 eth0:1")
    let b = try! VirtualAddress(address: "2001:db8::1 eth0")

    func testPlans() {
        XCTAssertEqual(
            TakeoverStep.becomeActive(addresses: [a, b], command: "up.sh"),
            [.addAddress(a), .addAddress(b), .announce([a, b], count: 5, interval: .seconds(1)), .runCommand("up.sh")])
        XCTAssertEqual(TakeoverStep.becomeActive(addresses: [], command: nil), [])
        XCTAssertEqual(
            TakeoverStep.becomeBackup(addresses: [a, b], command: "down.sh"),
            [.removeAddress(a), .removeAddress(b), .runCommand("down.sh")])
    }

    func testRunsStepsInOrderAndFirstAnnouncementBeforeLaterSteps() async {
        let system = RecordingSystem()
        let executor = TakeoverExecutor(system: system, clock: ContinuousClock())
        let report = await executor.execute(
            TakeoverStep.becomeActive(addresses: [a, b], command: "up", announcements: 3, interval: .milliseconds(20)))
        XCTAssertTrue(report.succeeded)
        let calls = await system.calls
        XCTAssertEqual(
            Array(calls.prefix(5)), ["add 10.0.0.1", "add 2001:db8::1", "announce 10.0.0.1", "announce 2001:db8::1", "run up"])
        XCTAssertEqual(calls.filter { $0 == "announce 10.0.0.1" }.count, 3)
        XCTAssertEqual(calls.filter { $0 == "announce 2001:db8::1" }.count, 3)
    }

    func testFailuresAreReportedPerStepAndTheRestStillRuns() async {
        let system = RecordingSystem(failing: ["add 10.0.0.1", "announce 2001:db8::1", "run up"])
        let executor = TakeoverExecutor(system: system, clock: ContinuousClock())
        let report = await executor.execute(
            TakeoverStep.becomeActive(addresses: [a, b], command: "up", announcements: 2, interval: .milliseconds(10)))
        let calls = await system.calls
        XCTAssertEqual(calls.count, 2 + 2 * 2 + 1, "every step ran")
        XCTAssertEqual(report.failures.map(\.step), [.addAddress(a), report.steps[2], .runCommand("up"), report.steps[2]])
        XCTAssertEqual(report.failures.compactMap(\.round), [1, 2])
        XCTAssertEqual(report.failures[0].description, "add 10.0.0.1/32 dev eth0:1: add 10.0.0.1 failed")
    }

    func testNextExecutionStopsRepeatedAnnouncements() async {
        let system = RecordingSystem()
        let executor = TakeoverExecutor(system: system, clock: ContinuousClock())
        let a = self.a
        let first = Task {
            await executor.execute(TakeoverStep.becomeActive(addresses: [a], command: nil, announcements: 100, interval: .seconds(10)))
        }
        // Wait until the first round went out, then give the address up.
        let deadline = ContinuousClock.now + .seconds(5)
        while await !system.calls.contains("announce 10.0.0.1"), ContinuousClock.now < deadline {
            await Task.yield()
        }
        let second = await executor.execute(TakeoverStep.becomeBackup(addresses: [a], command: nil))
        XCTAssertTrue(second.succeeded)
        let firstReport = await first.value
        XCTAssertTrue(firstReport.cancelled)
        let calls = await system.calls
        XCTAssertEqual(calls, ["add 10.0.0.1", "announce 10.0.0.1", "remove 10.0.0.1"])
    }

    func testShellCommandStatus() async throws {
        let path = NSTemporaryDirectory() + "h2e-hb-cmd-\(getpid())"
        defer { unlink(path) }
        try await ShellCommand.run("echo active > \(path)")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "active\n")
        do {
            try await ShellCommand.run("exit 3")
            XCTFail("exit 3 must throw")
        } catch {
            XCTAssertEqual(error, .exited("exit 3", status: 3))
        }
        do {
            try await ShellCommand.run("kill -TERM $$")
            XCTFail("a killed command must throw")
        } catch {
            XCTAssertEqual(error, .signalled("kill -TERM $$", signal: SIGTERM))
        }
    }
}
