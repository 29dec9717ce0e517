import XCTest

@testable import HealthCheck

final class CheckSpecTests: XCTestCase {
    func testNothingConfiguredOnPort80IsNannysHTTPCheck() throws {
        XCTAssertEqual(
            try HealthCheck.piranha(port: 80),
            .sendExpect(send: Array("GET / HTTP/1.0\r\n\r\n".utf8), expect: .prefix("HTTP")))
    }

    func testNothingConfiguredOnOtherPortsIsAPlainConnect() throws {
        XCTAssertEqual(try HealthCheck.piranha(port: 443), .connect)
        XCTAssertEqual(try HealthCheck.piranha(port: 8080, send: "", expect: ""), .connect)
    }

    func testSendAndExpectAreDecodedAsLvsCfWritesThem() throws {
        let check = try HealthCheck.piranha(port: 25, send: "EHLO x\\r\\n", expect: "220")
        XCTAssertEqual(check, .sendExpect(send: Array("EHLO x\r\n".utf8), expect: .prefix("220")))
        XCTAssertEqual(HealthCheck.unescape(#"a\tb\\c\"d\0e\qf\"#), Array("a\tb\\c\"d\0e\\qf\\".utf8))
    }

    func testStarAcceptsAnyAnswerAndUseRegexMakesARegex() throws {
        XCTAssertEqual(try HealthCheck.piranha(port: 80, expect: "*"), .sendExpect(send: [], expect: .anything))
        XCTAssertEqual(
            try HealthCheck.piranha(port: 80, expect: "*", useRegex: true), .sendExpect(send: [], expect: .anything))
        let regex = try HealthCheck.piranha(port: 80, send: "GET /\\r\\n", expect: "^HTTP/1\\.[01] 200", useRegex: true)
        XCTAssertEqual(regex, .sendExpect(send: Array("GET /\r\n".utf8), expect: try .regex("^HTTP/1\\.[01] 200")))
    }

    func testAnInvalidRegexIsAConfigurationError() {
        XCTAssertThrowsError(try HealthCheck.piranha(port: 80, expect: "HTTP/(1", useRegex: true)) { error in
            guard case HealthCheckConfigurationError.invalidRegex(let pattern, let message) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(pattern, "HTTP/(1")
            XCTAssertFalse(message.isEmpty)
            XCTAssertTrue("\(error)".contains("fix the pattern"))
        }
    }

    func testUDPAndProgramChecks() throws {
        XCTAssertEqual(
            try HealthCheck.piranha(protocol: .udp, port: 53, send: "ping"),
            .udp(send: Array("ping".utf8), expect: .anything))
        XCTAssertEqual(
            try HealthCheck.piranha(port: 80, expect: "OK", sendProgram: "/usr/bin/check %h %p"),
            .program(commandLine: "/usr/bin/check %h %p", expect: .prefix("OK")))
        XCTAssertEqual(
            try HealthCheck.piranha(port: 80, sendProgram: "/usr/bin/check %h"),
            .program(commandLine: "/usr/bin/check %h", expect: nil))
        XCTAssertThrowsError(try HealthCheck.piranha(port: 80, sendProgram: "  "))
        let endpoint = try HealthEndpoint(host: "fd00::2", port: 8080)
        XCTAssertEqual(HealthCheck.substitute("check -H %h -p %p", endpoint: endpoint), "check -H fd00::2 -p 8080")
    }

    func testEndpointsAreNumericAddressesAndPrintLikeNanny() throws {
        XCTAssertEqual(try HealthEndpoint(host: "10.0.0.2", port: 80).description, "10.0.0.2:80")
        XCTAssertEqual(try HealthEndpoint(host: "fd00::2", port: 80).description, "[fd00::2]:80")
        XCTAssertThrowsError(try HealthEndpoint(host: "www.example.com", port: 80))
        XCTAssertThrowsError(try HealthEndpoint(host: "10.0.0.2", port: 0))
    }

    func testPrefixMatchingComparesStrlenExpectBytes() {
        let matcher = AnswerExpectation.prefix("HTTP").makeMatcher()
        XCTAssertEqual(matcher.judge(Array("HTTP/1.0 200 OK".utf8), complete: false), .match)
        XCTAssertEqual(matcher.judge(Array("HTTP".utf8), complete: true), .match)
        XCTAssertEqual(matcher.judge(Array("HT".utf8), complete: false), .needMore)
        XCTAssertEqual(matcher.judge(Array("HT".utf8), complete: true), .mismatch)
        XCTAssertEqual(matcher.judge(Array("SSH-2.0".utf8), complete: false), .mismatch)
        XCTAssertEqual(matcher.judge(Array("X".utf8), complete: false), .mismatch)
        XCTAssertEqual(matcher.bytesWanted(limit: 4_096), 4)
    }

    func testRegexAndAnythingMatching() throws {
        let regex = try AnswerExpectation.regex("200 (OK|Fine)$").makeMatcher()
        XCTAssertEqual(regex.judge(Array("HTTP/1.0 200 OK".utf8), complete: true), .match)
        XCTAssertEqual(regex.judge(Array("HTTP/1.0 500 Oops".utf8), complete: false), .needMore)
        XCTAssertEqual(regex.judge(Array("HTTP/1.0 500 Oops".utf8), complete: true), .mismatch)
        // Bytes after a NUL are still searched.
        XCTAssertEqual(regex.judge([0] + Array("x 200 Fine".utf8), complete: true), .match)
        let anything = AnswerExpectation.anything.makeMatcher()
        XCTAssertEqual(anything.judge([0x42], complete: false), .match)
        XCTAssertEqual(anything.judge([], complete: false), .needMore)
        XCTAssertEqual(anything.judge([], complete: true), .mismatch)
    }

    func testTransitionsLogLikeNanny() throws {
        let endpoint = try HealthEndpoint(host: "10.0.0.2", port: 80)
        XCTAssertEqual(
            HealthTransition(target: "web", endpoint: endpoint, change: .up).logMessage,
            "[ active ] making 10.0.0.2:80 available")
        XCTAssertEqual(
            HealthTransition(
                target: "web", endpoint: endpoint, change: .down(.connectionFailed("Connection refused"))
            ).logMessage,
            "[inactive] shutting down 10.0.0.2:80 due to connection failure (Connection refused)")
    }

    func testLatencyHistogramPercentilesAreWithinTheirBucketPrecision() {
        var histogram = LatencyHistogram()
        XCTAssertEqual(histogram.percentile(0.5), .zero)
        for micros in 1...10_000 { histogram.record(.microseconds(micros)) }
        histogram.record(.milliseconds(-5))  // counts as zero
        XCTAssertEqual(histogram.count, 10_001)
        let p50 = Double(LatencyHistogram.microseconds(histogram.percentile(0.5)))
        let p99 = Double(LatencyHistogram.microseconds(histogram.percentile(0.99)))
        XCTAssertEqual(p50, 5_000, accuracy: 5_000 / 32 + 1)
        XCTAssertEqual(p99, 9_900, accuracy: 9_900 / 32 + 1)
        XCTAssertEqual(histogram.percentile(1), .microseconds(10_000))
        var merged = LatencyHistogram()
        merged.merge(histogram)
        XCTAssertEqual(merged, histogram)
    }
}
