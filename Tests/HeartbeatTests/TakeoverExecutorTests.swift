import Addressing
import Foundation
import TestSupport
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
    func install(marks: [SiteMarks]) throws {
        try record("marks " + marks.map { "\($0.mark):\($0.addresses.count)" }.joined(separator: ","))
    }
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

    func testSiteMarksGoFirstOnTakeoverAndLastOnGivingUp() throws {
        let site = try VirtualAddress(address: "10.0.2.1 eth0")
        let marks = [SiteMarks(mark: 100, addresses: [site.ip])]
        XCTAssertEqual(
            TakeoverStep.becomeActive(addresses: [a, site], marks: marks, command: nil, announcements: 1),
            [.installMarks(marks), .addAddress(a), .addAddress(site), .announce([a, site], count: 1, interval: .seconds(1))])
        XCTAssertEqual(
            TakeoverStep.becomeBackup(addresses: [a, site], marks: true, command: "down"),
            [.removeAddress(a), .removeAddress(site), .installMarks([]), .runCommand("down")])
        XCTAssertEqual(TakeoverStep.installMarks([]).description, "remove the site marks")
        XCTAssertEqual(TakeoverStep.installMarks(marks).description, "mark 1 site addresses (fwmark 100)")
    }

    /// A thousand site addresses must not flood the link: at `announce_rate` 1000 the announcements go in bursts
    /// of 10 with 10 ms between them. The first burst (the VIPs come first) goes before the later steps.
    func testAnnouncementsArePacedInBurstsAtTheConfiguredRate() async throws {
        let sites = try (1...250).map { try VirtualAddress(address: "10.0.\($0 / 200 + 2).\($0 % 200 + 1) eth0") }
        let system = RecordingSystem()
        let clock = SkippingClock()
        let executor = TakeoverExecutor(system: system, clock: clock, announceRate: 1000)
        let report = await executor.execute(
            TakeoverStep.becomeActive(addresses: [a] + sites, command: "up", announcements: 2, interval: .seconds(1)))
        XCTAssertTrue(report.succeeded, "\(report.failures)")
        let calls = await system.calls
        let announcements = calls.filter { $0.hasPrefix("announce ") }
        XCTAssertEqual(announcements.count, 2 * 251, "every address, each round")
        // The rest of the round runs beside the later steps, so only the first burst is ordered before them.
        let command = try XCTUnwrap(calls.firstIndex(of: "run up"))
        XCTAssertEqual(calls[251..<(251 + 10)].filter { $0.hasPrefix("announce ") }.count, 10, "the first burst of 10 before the command")
        XCTAssertGreaterThanOrEqual(command, 251 + 10)
        XCTAssertEqual(calls[251], "announce 10.0.0.1", "the VIP is announced first")
        // Round 1: 251 addresses, 10 at once and 25 bursts after a 10 ms pause each; then 1 s; round 2: 26 bursts.
        XCTAssertEqual(clock.sleeps, Array(repeating: .milliseconds(10), count: 25) + [.seconds(1)]
            + Array(repeating: .milliseconds(10), count: 25))
        XCTAssertEqual(TakeoverExecutor<ContinuousClock>.Pace(rate: 50).burst, 1)
        XCTAssertEqual(TakeoverExecutor<ContinuousClock>.Pace(rate: 50).pause, .milliseconds(20))
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
