import XCTest
@testable import LoadAgent

final class RouteTests: XCTestCase {
    func route(_ uri: String, _ method: String = "GET") -> Result<Route, Route.Failure> {
        Route.parse(method: method, uri: uri)
    }

    func status(_ uri: String, _ method: String = "GET") -> Int? {
        if case .failure(let f) = route(uri, method) { return f.status }
        return nil
    }

    func testEndpoints() {
        XCTAssertEqual(try route("/load").get(), .load)
        XCTAssertEqual(try route("/load.json").get(), .loadJSON)
        XCTAssertEqual(try route("/report").get(), .report(.day))
        XCTAssertEqual(try route("/report?period=week").get(), .report(.week))
        XCTAssertEqual(try route("/graph/cpu_util.png?period=hour&width=300&height=120").get(), .graph(.cpuUtil, .hour, width: 300, height: 120))
        XCTAssertEqual(try route("/graph/load.png").get(), .graph(.load, .day, width: 800, height: 300))
        XCTAssertEqual(try route("/rrd/load.rrd").get(), .rrd("load.rrd"))
        XCTAssertEqual(try route("/rrd/load%2Errd").get(), .rrd("load.rrd"), "encoded but harmless")
        XCTAssertEqual(try route("/load", "HEAD").get(), .load)
    }

    func testOnlyGetAndHead() {
        for method in ["POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT"] { XCTAssertEqual(status("/load", method), 405) }
    }

    func testBadParameters() {
        XCTAssertEqual(status("/report?period=decade"), 400)
        XCTAssertEqual(status("/graph/load.png?width=10"), 400)
        XCTAssertEqual(status("/graph/load.png?height=100000"), 400)
        XCTAssertEqual(status("/graph/load.png?width=abc"), 400)
        XCTAssertEqual(status("/graph/nope.png"), 404)
        XCTAssertEqual(status("/load%zz"), 400)
        XCTAssertEqual(status("/" + String(repeating: "a", count: 3000)), 414)
    }

    func testTraversalIsRefused() {
        for uri in [
            "/rrd/../load.rrd", "/rrd/../../etc/passwd", "/rrd/%2e%2e/%2e%2e/etc/passwd", "/rrd/%2E%2E%2Fetc%2Fpasswd",
            "/rrd/..%2f..%2fetc%2fpasswd", "/rrd/%252e%252e%252fetc%252fpasswd", "/rrd/load.rrd%00.png", "/rrd/",
            "/rrd/cpu.state", "/rrd/sample.lock", "/rrd//etc/passwd", "/graph/../load.png", "/rrd/load.rrd/..",
        ] {
            let s = status(uri)
            XCTAssertNotNil(s, "\(uri) must be refused")
            XCTAssertTrue(s == 404 || s == 400, "\(uri): \(String(describing: s))")
        }
    }
}
