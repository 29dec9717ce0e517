import Glibc
import NIOCore
import TestSupport
import XCTest

@testable import HealthCheck

/// A check that fails because of this director (out of descriptors, buffers, memory) is no verdict on the server.
final class LocalCheckErrorTests: XCTestCase {
    typealias Machine = RiseFallStateMachine<TestInstant>
    let emfile = HealthCheckResult.inconclusive(LocalCheckError(call: "socket", errno: EMFILE))
    let refused = HealthCheckFailure.connectionFailed("Connection refused")

    func testLocalErrnosAreInconclusiveAndPeerErrorsAreFailures() {
        for code in [EMFILE, ENFILE, ENOBUFS, ENOMEM] {
            let result = SocketProbes.failure(call: "socket", errno: code)
            guard case .inconclusive(let local) = result else { return XCTFail("errno \(code): \(result)") }
            XCTAssertEqual(local.errno, code)
            XCTAssertTrue(local.description.contains("on this director: no verdict on the server"), local.description)
        }
        XCTAssertEqual(
            SocketProbes.failure(call: "socket", errno: EMFILE),
            .inconclusive(LocalCheckError(call: "socket", errno: EMFILE)))
        for code in [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ECONNRESET] {
            guard case .failed(.connectionFailed) = SocketProbes.failure(call: "connect", errno: code)
            else { return XCTFail("errno \(code) must be a verdict") }
        }
        XCTAssertEqual(SocketProbes.failure(call: "connect", errno: ETIMEDOUT), .failed(.timeout))
        XCTAssertNotNil(LocalCheckError.classify(call: "posix_spawn", errno: EAGAIN, process: true))
        XCTAssertNil(LocalCheckError.classify(call: "connect", errno: EAGAIN))
    }

    func testAnUpServerStaysUpThroughAnyNumberOfLocalErrors() {
        var machine = Machine(fall: 1, reentry: .seconds(10))
        XCTAssertEqual(machine.record(.passed, at: .zero), .markUp)
        for second in 1...100 {
            XCTAssertEqual(machine.record(emfile, at: .seconds(Double(second))), .none)
        }
        XCTAssertEqual(machine.health, .up)
        // A real failure still takes it down.
        XCTAssertEqual(machine.record(.failed(refused), at: .seconds(101)), .markDown(refused))
    }

    func testLocalErrorsNeitherCountTowardsFallNorBreakASuccessRun() {
        var up = Machine(fall: 2, reentry: .zero)
        _ = up.record(.passed, at: .zero)
        XCTAssertEqual(up.record(.failed(refused), at: .seconds(1)), .none)
        XCTAssertEqual(up.record(emfile, at: .seconds(2)), .none)
        XCTAssertEqual(up.health, .up, "one real failure of two, the local error does not count")

        var down = Machine(fall: 1, reentry: .seconds(10))
        _ = down.record(.failed(refused), at: .zero)
        XCTAssertEqual(down.record(.passed, at: .seconds(1)), .none)
        XCTAssertEqual(down.record(emfile, at: .seconds(5)), .none)
        XCTAssertEqual(down.record(.passed, at: .seconds(11)), .markUp, "the success run went on through the local error")

        var unknown = Machine(fall: 1)
        XCTAssertEqual(unknown.record(emfile, at: .zero), .none)
        XCTAssertEqual(unknown.health, .unknown)
    }
}
