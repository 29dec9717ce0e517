import Logging
import Synchronization
import XCTest

@testable import HealthCheck

/// The engine end to end: real servers on loopback addresses, real time, transitions and log lines observed.
final class HealthCheckEngineTests: XCTestCase {
    func testAStoppedServerGoesDownWithinTimeoutPlusIntervalAndComesBackAfterReentry() async throws {
        let ok = "HTTP/1.0 200 OK\r\n\r\n"
        var server = try await TCPTestServer.start(host: "127.0.0.3", behaviour: .answer(ok))
        let endpoint = try server.endpoint
        let timing = try HealthCheckTiming(
            timeout: .milliseconds(500), interval: .milliseconds(200), reentry: .seconds(1), jitter: 0.1)
        let logs = LogCapture()
        let engine = HealthCheckEngine<String>(logger: logs.logger, random: SplitMix64(seed: 1))
        await engine.setTargets(["web": HealthTarget(endpoint: endpoint, check: try .piranha(port: 80), timing: timing)])
        let recorder = TransitionRecorder(engine.transitions)
        let running = Task { await engine.run() }
        defer { running.cancel() }

        let cameUp = await eventually(within: .seconds(5)) { recorder.transitions.count == 1 }
        XCTAssertTrue(cameUp, "never came up: \(recorder.transitions)")
        XCTAssertEqual(recorder.transitions.first?.change, .up)

        try await server.stop()
        let stoppedAt = ContinuousClock.now
        let wentDown = await eventually(within: .seconds(5)) { recorder.transitions.count == 2 }
        let downAfter = stoppedAt.duration(to: .now)
        XCTAssertTrue(wentDown, "never went down: \(recorder.transitions)")
        guard case .down(.connectionFailed)? = recorder.transitions.last?.change else {
            return XCTFail("\(recorder.transitions)")
        }
        // Within timeout plus one (jittered) interval; the polling step and a loaded machine get 300 ms.
        XCTAssertLessThanOrEqual(downAfter, timing.timeout + timing.interval * 1.1 + .milliseconds(300))
        let state = await engine.health(of: "web")
        guard case .down? = state else { return XCTFail("\(String(describing: state))") }

        server = try await TCPTestServer.start(host: "127.0.0.3", port: endpoint.port, behaviour: .answer(ok))
        defer { Task { [server] in try await server.stop() } }
        let restartedAt = ContinuousClock.now
        let cameBack = await eventually(within: .seconds(10)) { recorder.transitions.count == 3 }
        let backAfter = restartedAt.duration(to: .now)
        XCTAssertTrue(cameBack, "never came back: \(recorder.transitions)")
        XCTAssertEqual(recorder.transitions.last?.change, .up)
        XCTAssertGreaterThanOrEqual(backAfter, timing.reentry, "came back before reentry")
        XCTAssertLessThanOrEqual(backAfter, timing.reentry + timing.interval * 2.2 + .milliseconds(500))
        let upAgain = await engine.health(of: "web")
        XCTAssertEqual(upAgain, .up)

        // One log line per transition, in nanny's words; none for the routine checks in between.
        XCTAssertEqual(logs.lines.count, 3, "\(logs.lines)")
        XCTAssertEqual(logs.lines.first, "notice [ active ] making 127.0.0.3:\(endpoint.port) available")
        XCTAssertTrue(
            logs.lines.dropFirst().first?.hasPrefix(
                "notice [inactive] shutting down 127.0.0.3:\(endpoint.port) due to connection failure") == true,
            "\(logs.lines)")
        let statistics = await engine.statistics()
        XCTAssertGreaterThan(statistics.started, 5)
        XCTAssertGreaterThan(statistics.failed, 0)
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
