import NIOCore
import NIOPosix
import TestSupport
import XCTest

@testable import HealthCheck

/// Single checks against real servers on loopback.
final class HealthCheckerTests: XCTestCase {
    let checker = HealthChecker()
    let nannyHTTP = try! HealthCheck.piranha(port: 80)

    func testNannysDefaultHTTPCheckPassesAgainstAnHTTPServer() async throws {
        let server = try await TCPTestServer.start(behaviour: .answer("HTTP/1.0 200 OK\r\n\r\nhello"))
        defer { Task { try await server.stop() } }
        let result = await checker.run(nannyHTTP, against: try server.endpoint, timeout: .seconds(2))
        XCTAssertEqual(result, .passed)
    }

    func testAServerThatAnswersGarbageFails() async throws {
        let server = try await TCPTestServer.start(behaviour: .answer("SSH-2.0-OpenSSH_9.2\r\n"))
        defer { Task { try await server.stop() } }
        let result = await checker.run(nannyHTTP, against: try server.endpoint, timeout: .seconds(2))
        XCTAssertEqual(result, .failed(.unexpectedAnswer("SSH-")))
    }

    func testAServerThatAcceptsAndNeverAnswersTimesOut() async throws {
        let server = try await TCPTestServer.start(behaviour: .silent)
        defer { Task { try await server.stop() } }
        let start = ContinuousClock.now
        let result = await checker.run(nannyHTTP, against: try server.endpoint, timeout: .milliseconds(300))
        XCTAssertEqual(result, .failed(.timeout))
        XCTAssertGreaterThanOrEqual(start.duration(to: .now), .milliseconds(300))
    }

    func testAnAnswerAfterTheTimeoutFailsAndOneWithinItPasses() async throws {
        let slow = try await TCPTestServer.start(behaviour: .answer("HTTP/1.0 200 OK\r\n\r\n", delay: .seconds(1)))
        defer { Task { try await slow.stop() } }
        let late = await checker.run(nannyHTTP, against: try slow.endpoint, timeout: .milliseconds(300))
        XCTAssertEqual(late, .failed(.timeout))
        let inTime = await checker.run(nannyHTTP, against: try slow.endpoint, timeout: .seconds(5))
        XCTAssertEqual(inTime, .passed)
    }

    func testAStoppedServerIsAConnectionFailure() async throws {
        let server = try await TCPTestServer.start(behaviour: .answer("HTTP/1.0 200 OK\r\n\r\n"))
        let endpoint = try server.endpoint
        try await server.stop()
        let result = await checker.run(nannyHTTP, against: endpoint, timeout: .seconds(2))
        guard case .failed(.connectionFailed(let detail)) = result else { return XCTFail("\(result)") }
        XCTAssertTrue(detail.lowercased().contains("refused"), detail)
    }

    func testAServerThatClosesWithoutAnsweringFails() async throws {
        let server = try await TCPTestServer.start(behaviour: .closeImmediately)
        defer { Task { try await server.stop() } }
        let result = await checker.run(nannyHTTP, against: try server.endpoint, timeout: .seconds(2))
        guard case .failed(let failure) = result else { return XCTFail("passed") }
        // The close may also arrive as a reset while the request is being written.
        switch failure {
        case .closedBeforeAnswer(received: ""), .connectionFailed: break
        default: XCTFail("\(failure)")
        }
    }

    func testRegexExpectation() async throws {
        let ok = try await TCPTestServer.start(behaviour: .answer("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n"))
        let unavailable = try await TCPTestServer.start(behaviour: .answer("HTTP/1.1 503 Service Unavailable\r\n\r\n"))
        defer { Task { try await ok.stop(); try await unavailable.stop() } }
        let check = try HealthCheck.piranha(
            port: 80, send: "GET / HTTP/1.0\\r\\n\\r\\n", expect: "^HTTP/1\\.[01] 200", useRegex: true)
        let passed = await checker.run(check, against: try ok.endpoint, timeout: .seconds(2))
        XCTAssertEqual(passed, .passed)
        let failed = await checker.run(check, against: try unavailable.endpoint, timeout: .seconds(2))
        XCTAssertEqual(failed, .failed(.unexpectedAnswer("HTTP/1.1 503 Service Unavailable\\r\\n\\r\\n")))
    }

    func testStarAcceptsAnyAnswerButNotSilence() async throws {
        let banner = try await TCPTestServer.start(behaviour: .answer("220 smtp ready\r\n", afterRequest: false))
        let silent = try await TCPTestServer.start(behaviour: .silent)
        defer { Task { try await banner.stop(); try await silent.stop() } }
        let check = try HealthCheck.piranha(port: 25, expect: "*")
        let passed = await checker.run(check, against: try banner.endpoint, timeout: .seconds(2))
        XCTAssertEqual(passed, .passed)
        let failed = await checker.run(check, against: try silent.endpoint, timeout: .milliseconds(200))
        XCTAssertEqual(failed, .failed(.timeout))
    }

    func testPlainConnectAndSendWithoutExpectPassOnASilentServer() async throws {
        let silent = try await TCPTestServer.start(behaviour: .silent)
        defer { Task { try await silent.stop() } }
        let connect = await checker.run(.connect, against: try silent.endpoint, timeout: .seconds(2))
        XCTAssertEqual(connect, .passed)
        let sendOnly = try HealthCheck.piranha(port: 8080, send: "PING\\r\\n")
        let sent = await checker.run(sendOnly, against: try silent.endpoint, timeout: .seconds(2))
        XCTAssertEqual(sent, .passed)
    }

    func testIPv6Loopback() async throws {
        let server: TCPTestServer
        do {
            server = try await TCPTestServer.start(host: "::1", behaviour: .answer("HTTP/1.0 200 OK\r\n\r\n"))
        } catch {
            throw unavailable("no IPv6 loopback here (\(error))")
        }
        defer { Task { try await server.stop() } }
        let endpoint = try server.endpoint
        XCTAssertEqual(endpoint.description, "[::1]:\(server.port)")
        let result = await checker.run(nannyHTTP, against: endpoint, timeout: .seconds(2))
        XCTAssertEqual(result, .passed)

        let udp = try await UDPTestServer.start(host: "::1", answer: "PONG")
        defer { Task { try await udp.stop() } }
        let check = try HealthCheck.piranha(protocol: .udp, port: 9, send: "PING", expect: "PONG")
        let udpResult = await checker.run(check, against: try HealthEndpoint(host: "::1", port: udp.port), timeout: .seconds(2))
        XCTAssertEqual(udpResult, .passed)
    }

    func testUDPSendExpect() async throws {
        let pong = try await UDPTestServer.start(answer: "PONG 1")
        let wrong = try await UDPTestServer.start(answer: "NOPE")
        let silent = try await UDPTestServer.start(answer: nil)
        defer { Task { try await pong.stop(); try await wrong.stop(); try await silent.stop() } }
        let check = try HealthCheck.piranha(protocol: .udp, port: 9, send: "PING", expect: "PONG")
        let passed = await checker.run(check, against: try HealthEndpoint(host: "127.0.0.1", port: pong.port), timeout: .seconds(2))
        XCTAssertEqual(passed, .passed)
        let mismatch = await checker.run(
            check, against: try HealthEndpoint(host: "127.0.0.1", port: wrong.port), timeout: .seconds(2))
        XCTAssertEqual(mismatch, .failed(.unexpectedAnswer("NOPE")))
        let quiet = await checker.run(
            check, against: try HealthEndpoint(host: "127.0.0.1", port: silent.port), timeout: .milliseconds(300))
        XCTAssertEqual(quiet, .failed(.timeout))
    }

    func testUDPToAClosedPortFailsOnThePortUnreachable() async throws {
        let server = try await UDPTestServer.start(answer: "PONG")
        let port = server.port
        try await server.stop()
        let check = try HealthCheck.piranha(protocol: .udp, port: port, send: "PING", expect: "PONG")
        let start = ContinuousClock.now
        let result = await checker.run(check, against: try HealthEndpoint(host: "127.0.0.1", port: port), timeout: .seconds(5))
        guard case .failed(.connectionFailed(let detail)) = result else { return XCTFail("\(result)") }
        XCTAssertTrue(detail.lowercased().contains("refused"), detail)
        XCTAssertLessThan(start.duration(to: .now), .seconds(5), "the ICMP error, not the timeout, decided")
    }

    func testProgramExitStatusDecidesWithoutExpect() async throws {
        let endpoint = try HealthEndpoint(host: "127.0.0.1", port: 8080)
        let up = await checker.run(try .piranha(port: 80, sendProgram: "test %h = 127.0.0.1 && test %p = 8080"),
            against: endpoint, timeout: .seconds(5))
        XCTAssertEqual(up, .passed)
        let down = await checker.run(try .piranha(port: 80, sendProgram: "exit 3"), against: endpoint, timeout: .seconds(5))
        XCTAssertEqual(down, .failed(.programFailed(exitStatus: 3)))
        let killed = await checker.run(try .piranha(port: 80, sendProgram: "kill -9 $$"), against: endpoint, timeout: .seconds(5))
        XCTAssertEqual(killed, .failed(.programKilled(signal: 9)))
    }

    func testProgramOutputIsMatchedAgainstExpect() async throws {
        let endpoint = try HealthEndpoint(host: "127.0.0.1", port: 8080)
        let matched = await checker.run(
            try .piranha(port: 80, expect: "up 127.0.0.1:8080", sendProgram: "echo up %h:%p; exit 1"),
            against: endpoint, timeout: .seconds(5))
        XCTAssertEqual(matched, .passed, "with expect, the output decides, not the status")
        let regex = await checker.run(
            try .piranha(port: 80, expect: "load [0-9]+", useRegex: true, sendProgram: "echo status: load 42"),
            against: endpoint, timeout: .seconds(5))
        XCTAssertEqual(regex, .passed)
        let mismatch = await checker.run(
            try .piranha(port: 80, expect: "up", sendProgram: "echo down"), against: endpoint, timeout: .seconds(5))
        XCTAssertEqual(mismatch, .failed(.unexpectedAnswer("down\\n")))
    }

    func testAProgramThatHangsIsKilledAtTheTimeout() async throws {
        let endpoint = try HealthEndpoint(host: "127.0.0.1", port: 8080)
        let start = ContinuousClock.now
        let result = await checker.run(
            try .piranha(port: 80, sendProgram: "sleep 30"), against: endpoint, timeout: .milliseconds(300))
        XCTAssertEqual(result, .failed(.timeout))
        XCTAssertLessThan(start.duration(to: .now), .seconds(10), "killed, not waited for")
    }
}
