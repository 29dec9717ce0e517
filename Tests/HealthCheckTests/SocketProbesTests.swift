import NIOCore
import XCTest

@testable import HealthCheck

/// One set of probes running check after check: a socket whose check ended cleanly serves the next one, and carries
/// nothing of the previous check into it.
final class SocketProbesTests: XCTestCase {
    let http = HealthCheck.sendExpect(send: Array("GET / HTTP/1.0\r\n\r\n".utf8), expect: .prefix("HTTP"))

    /// Runs `check` to its end on `probes` (blocking: these are the probes of one thread).
    func run(_ check: HealthCheck, _ endpoint: HealthEndpoint, on probes: SocketProbes, timeout: Duration = .seconds(2))
        -> HealthCheckResult
    {
        probes.start(check, against: endpoint, deadline: LoopInstant(.now()) + timeout, token: 7)
        var results: [ProbeResult] = []
        while results.isEmpty {
            probes.wait()
            probes.poll(now: LoopInstant(.now()), into: &results)
        }
        XCTAssertEqual(results.map(\.token), [7])
        return results[0].result
    }

    func testAReusedSocketGivesEveryCheckItsOwnVerdict() async throws {
        let good = try await TCPTestServer.start(behaviour: .answer("HTTP/1.0 200 OK\r\n\r\n"))
        let garbage = try await TCPTestServer.start(behaviour: .answer("SSH-2.0-OpenSSH_9.2\r\n"))
        let closing = try await TCPTestServer.start(behaviour: .closeImmediately)
        let stopped = try await TCPTestServer.start(behaviour: .answer("HTTP/1.0 200 OK\r\n\r\n"))
        let refused = try stopped.endpoint
        try await stopped.stop()
        defer {
            Task {
                try await good.stop()
                try await garbage.stop()
                try await closing.stop()
            }
        }
        let probes = SocketProbes(threadPool: nil)

        for round in 1...20 {
            XCTAssertEqual(run(http, try good.endpoint, on: probes), .passed, "round \(round)")
        }
        XCTAssertEqual(probes.socketsOpened, 1, "one socket served 20 checks one after another")

        // A wrong answer leaves the socket clean for the next check, which passes.
        XCTAssertEqual(run(http, try garbage.endpoint, on: probes), .failed(.unexpectedAnswer("SSH-")))
        XCTAssertEqual(run(http, try good.endpoint, on: probes), .passed)
        // A refusal on a reused socket is the refusal of this check, and the next one is not touched by it.
        guard case .failed(.connectionFailed(let detail)) = run(http, refused, on: probes) else {
            return XCTFail("a stopped server must be a connection failure")
        }
        XCTAssertTrue(detail.lowercased().contains("refused"), detail)
        XCTAssertEqual(run(http, try good.endpoint, on: probes), .passed)
        // A server that closes without an answer fails the check, and the socket still serves.
        guard case .failed = run(http, try closing.endpoint, on: probes) else { return XCTFail("passed") }
        XCTAssertEqual(run(http, try good.endpoint, on: probes), .passed)
        XCTAssertLessThanOrEqual(probes.socketsOpened, 3, "a refused or reset socket is closed, a clean one reused")
        // A plain connect awaits no answer: its socket is closed (an orderly close for the server), not reused.
        let opened = probes.socketsOpened
        XCTAssertEqual(run(.connect, try good.endpoint, on: probes), .passed)
        XCTAssertEqual(run(.connect, try good.endpoint, on: probes), .passed)
        XCTAssertEqual(probes.socketsOpened, opened + 1, "the first connect reuses the idle socket, the second opens one")
    }

    /// A socket that sends at once holds the handshake's last ACK for its request (`TCP_DEFER_ACCEPT`). A server
    /// that speaks first gets its connection only with that ACK, up to 200 ms later: such checks must never get one
    /// of those sockets, fresh or reused. The 150 ms timeout fails any check that waits for the held ACK.
    func testAServerThatSpeaksFirstIsNotKeptWaitingForTheHandshake() async throws {
        let banner = try await TCPTestServer.start(behaviour: .answer("220 mail ESMTP\r\n", afterRequest: false))
        let good = try await TCPTestServer.start(behaviour: .answer("HTTP/1.0 200 OK\r\n\r\n"))
        defer {
            Task {
                try await banner.stop()
                try await good.stop()
            }
        }
        let probes = SocketProbes(threadPool: nil)
        let greeting = HealthCheck.sendExpect(send: [], expect: .prefix("220"))
        for round in 1...10 {
            XCTAssertEqual(run(http, try good.endpoint, on: probes), .passed, "round \(round)")
            XCTAssertEqual(
                run(greeting, try banner.endpoint, on: probes, timeout: .milliseconds(150)), .passed, "round \(round)")
        }
        XCTAssertEqual(probes.socketsOpened, 2, "each kind of check reuses a socket of its own kind")
    }

    func testManyChecksInFlightAtOnceEachGetTheirOwnResult() async throws {
        let good = try await TCPTestServer.start(behaviour: .answer("HTTP/1.0 200 OK\r\n\r\n"))
        let hung = try await TCPTestServer.start(behaviour: .silent)
        defer {
            Task {
                try await good.stop()
                try await hung.stop()
            }
        }
        let probes = SocketProbes(threadPool: nil)
        let deadline = LoopInstant(.now()) + .milliseconds(500)
        for token in UInt64(0)..<200 {
            probes.start(http, against: try token % 4 == 0 ? hung.endpoint : good.endpoint, deadline: deadline, token: token)
        }
        var results: [ProbeResult] = []
        let giveUp = ContinuousClock.now + .seconds(10)
        while results.count < 200, ContinuousClock.now < giveUp {
            probes.wait()
            probes.poll(now: LoopInstant(.now()), into: &results)
        }
        XCTAssertEqual(Set(results.map(\.token)).count, 200, "every check gives exactly one result")
        for result in results {
            XCTAssertEqual(result.result, result.token % 4 == 0 ? .failed(.timeout) : .passed, "check \(result.token)")
        }
        XCTAssertTrue(probes.isIdle)
    }
}
