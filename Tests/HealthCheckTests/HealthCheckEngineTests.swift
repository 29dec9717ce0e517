import HostSystem
import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import XCTest

@testable import HealthCheck

/// The engine end to end: real servers on loopback addresses, real time, transitions and log lines observed.
final class HealthCheckEngineTests: XCTestCase {
    /// On the loop's virtual time, every instant is exact: a server that stops answering is down one interval plus
    /// one timeout after its last good check, and back up no sooner than reentry after it answers again.
    func testAStoppedServerGoesDownAtIntervalPlusTimeoutAndComesBackAfterReentry() async throws {
        let loop = NIOAsyncTestingEventLoop()
        defer { Task { await loop.shutdownGracefully() } }
        let runner = ScriptedRunner(loop: loop)
        let endpoint = try HealthEndpoint(host: "10.0.0.2", port: 80)
        let timing = try HealthCheckTiming(
            timeout: .seconds(3), interval: .seconds(5), reentry: .seconds(30), jitter: 0)
        let logs = LogCapture()
        let engine = HealthCheckEngine<String>(
            checker: runner, logger: logs.logger, random: SplitMix64(seed: 1), coalescing: .zero)
        await engine.setTargets(["web": HealthTarget(endpoint: endpoint, check: .connect, timing: timing)])
        let recorder = TransitionRecorder(engine.transitions)
        let running = Task { await engine.run() }
        defer { running.cancel() }
        // Virtual time may only move once the engine runs: a check due while it does not would start late.
        let started = await eventually(within: .seconds(10)) { await engine.isRunning() }
        XCTAssertTrue(started)
        let start = LoopInstant(loop.now)

        // Up at the first check, which comes within one interval (its spread offset).
        await loop.advanceTime(by: .seconds(5))
        let cameUp = await eventually(within: .seconds(10)) { recorder.transitions.count == 1 }
        XCTAssertTrue(cameUp, "never came up: \(recorder.transitions)")
        XCTAssertEqual(recorder.transitions.first?.change, .up)
        let firstCheck = try await lastCheck(of: "web", engine)
        XCTAssertLessThan(start.duration(to: LoopInstant(firstCheck.completedAt)), timing.interval)

        // It stops answering just after a good check: the next check starts one interval later and times out.
        await loop.advanceTime(to: firstCheck.completedAt + .seconds(10))
        let lastGood = try await lastCheck(of: "web", engine)
        XCTAssertTrue(lastGood.passed)
        XCTAssertEqual(lastGood.completedAt, firstCheck.completedAt + .seconds(10), "checked every interval")
        runner.answer = .hang
        await loop.advanceTime(by: .seconds(5 + 3))
        let wentDown = await eventually(within: .seconds(10)) { recorder.transitions.count == 2 }
        XCTAssertTrue(wentDown, "never went down: \(recorder.transitions)")
        XCTAssertEqual(recorder.transitions.last?.change, .down(.timeout))
        let failed = try await lastCheck(of: "web", engine)
        XCTAssertEqual(failed.failure, .timeout)
        XCTAssertEqual(failed.completedAt, lastGood.completedAt + .seconds(5 + 3), "down at interval + timeout")

        // Back: the first good check starts the reentry time; up only once 30 s of good checks passed.
        runner.answer = .pass
        await loop.advanceTime(by: .seconds(5))
        let answering = try await lastCheck(of: "web", engine)
        XCTAssertTrue(answering.passed)
        await loop.advanceTime(by: .seconds(25))
        XCTAssertEqual(recorder.transitions.count, 2, "up again before reentry: \(recorder.transitions)")
        let stillDown = await engine.health(of: "web")
        guard case .down? = stillDown else { return XCTFail("\(String(describing: stillDown))") }
        await loop.advanceTime(by: .seconds(5))
        let cameBack = await eventually(within: .seconds(10)) { recorder.transitions.count == 3 }
        XCTAssertTrue(cameBack, "never came back: \(recorder.transitions)")
        XCTAssertEqual(recorder.transitions.last?.change, .up)
        let backUp = try await lastCheck(of: "web", engine)
        XCTAssertEqual(backUp.completedAt, answering.completedAt + .seconds(30), "up at reentry after the first good check")

        // One log line per transition, in nanny's words; none for the routine checks in between.
        XCTAssertEqual(logs.lines, [
            "notice [ active ] making 10.0.0.2:80 available",
            "notice [inactive] shutting down 10.0.0.2:80 due to \(HealthCheckFailure.timeout)",
            "notice [ active ] making 10.0.0.2:80 available",
        ])
        let statistics = await engine.statistics()
        XCTAssertEqual(statistics.timedOut, 1)
        XCTAssertEqual(statistics.failed, 1)
    }

    /// With wake-ups coalesced, 100 targets checked every second cost at most one wake-up per coalescing interval,
    /// not one per check and one per result; every check still runs, at most one interval late.
    func testCoalescedWakeUpsServeManyChecksEach() async throws {
        let loop = NIOAsyncTestingEventLoop()
        defer { Task { await loop.shutdownGracefully() } }
        let runner = ScriptedRunner(loop: loop)
        let timing = try HealthCheckTiming(timeout: .seconds(1), interval: .seconds(1), reentry: .zero, jitter: 0)
        var targets: [Int: HealthTarget] = [:]
        for index in 0..<100 {
            targets[index] = HealthTarget(
                endpoint: try HealthEndpoint(host: "10.0.\(index / 250).\(1 + index % 250)", port: 80), check: .connect,
                timing: timing)
        }
        let engine = HealthCheckEngine<Int>(
            checker: runner, logger: LogCapture().logger, random: SplitMix64(seed: 3), coalescing: .milliseconds(100))
        await engine.setTargets(targets)
        let running = Task { await engine.run() }
        defer { running.cancel() }
        let started = await eventually(within: .seconds(10)) { await engine.isRunning() }
        XCTAssertTrue(started)

        for _ in 0..<100 { await loop.advanceTime(by: .milliseconds(100)) }  // 10 s, in steps a timer can follow
        let statistics = await engine.statistics()
        XCTAssertGreaterThanOrEqual(statistics.started, 100 * 9, "every target checked about once a second")
        XCTAssertLessThanOrEqual(statistics.wakeUps, 101, "at most one wake-up per 100 ms")
        XCTAssertLessThanOrEqual(statistics.lateness.maximum, .milliseconds(100), "no check later than the coalescing")
        let snapshot = await engine.healthSnapshot()
        XCTAssertEqual(snapshot.values.filter { $0 == .up }.count, 100)
    }

    func testManyTargetsOnSeveralAddressesAreJudgedEachByItsOwnServer() async throws {
        let good = try await TCPTestServer.start(host: "127.0.0.4", behaviour: .answer("HTTP/1.0 200 OK\r\n\r\n"))
        let garbage = try await TCPTestServer.start(host: "127.0.0.5", behaviour: .answer("garbage"))
        let silent = try await TCPTestServer.start(host: "127.0.0.6", behaviour: .silent)
        defer { Task { try await good.stop(); try await garbage.stop(); try await silent.stop() } }
        let timing = try HealthCheckTiming(timeout: .seconds(1), interval: .milliseconds(100), reentry: .zero)
        let check = try HealthCheck.piranha(port: 80)
        var targets: [String: HealthTarget] = [:]
        for index in 0..<30 {
            targets["good\(index)"] = HealthTarget(endpoint: try good.endpoint, check: check, timing: timing)
            targets["garbage\(index)"] = HealthTarget(endpoint: try garbage.endpoint, check: check, timing: timing)
            targets["silent\(index)"] = HealthTarget(endpoint: try silent.endpoint, check: check, timing: timing)
        }
        let engine = HealthCheckEngine<String>(logger: LogCapture().logger)
        await engine.setTargets(targets)
        let running = Task { await engine.run() }
        defer { running.cancel() }

        // Every target ends up judged by its own server (a loaded machine may delay a good answer past the
        // timeout once; reentry zero brings it straight back).
        func judgedRight(_ id: String, _ state: HealthState) -> Bool {
            switch (id.prefix(4), state) {
            case ("good", .up), ("garb", .down(.unexpectedAnswer("garb"))), ("sile", .down(.timeout)): true
            default: false
            }
        }
        let settled = await eventually(within: .seconds(10)) {
            await engine.healthSnapshot().allSatisfy { judgedRight($0.key, $0.value) }
        }
        let snapshot = await engine.healthSnapshot()
        XCTAssertTrue(settled, "\(snapshot.filter { !judgedRight($0.key, $0.value) })")
        XCTAssertEqual(snapshot.count, 90)

        // Removing targets stops their checks and their reports.
        await engine.setTargets(targets.filter { $0.key.hasPrefix("good") })
        let remaining = await engine.healthSnapshot()
        XCTAssertEqual(remaining.count, 30)
    }

    func testTheInFlightLimitQueuesChecksInsteadOfPilingThemUp() async throws {
        let silent = try await TCPTestServer.start(host: "127.0.0.7", behaviour: .silent)
        defer { Task { try await silent.stop() } }
        let timing = try HealthCheckTiming(timeout: .milliseconds(200), interval: .milliseconds(50), reentry: .zero)
        var targets: [String: HealthTarget] = [:]
        for index in 0..<3 {
            targets["silent\(index)"] = HealthTarget(endpoint: try silent.endpoint, check: .sendExpect(send: [], expect: .anything), timing: timing)
        }
        let engine = HealthCheckEngine<String>(logger: LogCapture().logger, maximumChecksInFlight: 1)
        await engine.setTargets(targets)
        let running = Task { await engine.run() }
        defer { running.cancel() }
        let allDown = await eventually(within: .seconds(5)) {
            await engine.healthSnapshot().values.allSatisfy { $0 == .down(.timeout) }
        }
        XCTAssertTrue(allDown)
        let statistics = await engine.statistics()
        XCTAssertEqual(statistics.peakInFlight, 1)
        XCTAssertGreaterThanOrEqual(statistics.started, 3)
    }

    func testCancellingRunFinishesTheTransitionStream() async throws {
        let engine = HealthCheckEngine<Int>(logger: LogCapture().logger)
        let running = Task { await engine.run() }
        let finished = Task {
            for await _ in engine.transitions {}
            return true
        }
        running.cancel()
        await running.value
        let done = await finished.value
        XCTAssertTrue(done)
    }
}

/// Collects an engine's transitions as they arrive.
final class TransitionRecorder: Sendable {
    private let received = Mutex<[HealthTransition<String>]>([])

    init(_ stream: AsyncStream<HealthTransition<String>>) {
        Task { [self] in
            for await transition in stream { received.withLock { $0.append(transition) } }
        }
    }

    var transitions: [HealthTransition<String>] { received.withLock { $0 } }
}

/// A log handler that keeps `level message` lines, to assert on what the engine logs.
final class LogCapture: Sendable {
    private let stored = Mutex<[String]>([])

    var lines: [String] { stored.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(capture: self) }
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.stored.withLock { $0.append("\(event.level) \(event.message)") }
        }
    }
}

/// Answers every check on a testing loop's virtual time: passes at once, or hangs until the check's timeout.
/// The engine's last check of `id`; fails the test when there is none.
func lastCheck(
    of id: String, _ engine: HealthCheckEngine<String>, file: StaticString = #filePath, line: UInt = #line
) async throws -> HealthCheckRecord {
    let checks = await engine.lastChecks()
    return try XCTUnwrap(checks[id], "no check of \(id) yet", file: file, line: line)
}

final class ScriptedRunner: HealthCheckRunning {
    enum Answer { case pass, hang }

    let loop: NIOAsyncTestingEventLoop
    private let current = Mutex(Answer.pass)
    var group: any EventLoopGroup { loop }

    var answer: Answer {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }

    init(loop: NIOAsyncTestingEventLoop) { self.loop = loop }

    func makeProbes() -> any HealthProbes { ScriptedProbes(runner: self) }
}

/// Checks that pass at once or hang until their deadline, as the runner says when each starts.
final class ScriptedProbes: HealthProbes {
    let runner: ScriptedRunner
    private var pending: [(token: UInt64, at: LoopInstant, result: HealthCheckResult)] = []

    init(runner: ScriptedRunner) { self.runner = runner }

    func start(_ check: HealthCheck, against endpoint: HealthEndpoint, deadline: LoopInstant, token: UInt64) {
        switch runner.answer {
        case .pass: pending.append((token, LoopInstant(runner.loop.now), .passed))
        case .hang: pending.append((token, deadline, .failed(.timeout)))
        }
    }

    func poll(now: LoopInstant, into results: inout [ProbeResult]) {
        for item in pending where item.at <= now { results.append(ProbeResult(token: item.token, result: item.result)) }
        pending.removeAll { $0.at <= now }
    }

    func nextResult(now: LoopInstant) -> LoopInstant? { pending.map(\.at).min() }

    func cancelAll() { pending.removeAll() }
}
