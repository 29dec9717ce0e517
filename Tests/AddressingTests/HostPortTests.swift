import Addressing
import XCTest

final class HostPortTests: XCTestCase {
    func testWritesAndReadsBothFamilies() {
        XCTAssertEqual(HostPort(host: "10.0.0.2", port: 80).description, "10.0.0.2:80")
        XCTAssertEqual(HostPort(host: "2001:db8::1", port: 8181).description, "[2001:db8::1]:8181")
        XCTAssertEqual(HostPort(parsing: "10.0.0.2:80"), HostPort(host: "10.0.0.2", port: 80))
        XCTAssertEqual(HostPort(parsing: "[::1]:9110"), HostPort(host: "::1", port: 9110))
        XCTAssertEqual(HostPort(parsing: "web1.example:8181"), HostPort(host: "web1.example", port: 8181))
        for bad in ["10.0.0.2", "::1:80", "[::1]", "[::1]80", ":80", "10.0.0.2:", "10.0.0.2:65536", "10.0.0.2:-1",
                    "10.0.0.2:8a"] {
            XCTAssertNil(HostPort(parsing: bad), bad)
        }
        for text in ["10.0.0.2:80", "[2001:db8::1]:8181"] {
            XCTAssertEqual(HostPort(parsing: text)?.description, text, "round trip")
        }
    }
}
