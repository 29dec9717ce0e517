import Addressing
import XCTest

final class IPAddressBytesTests: XCTestCase {
    func testParsesAndFormatsBothFamiliesCanonically() {
        XCTAssertEqual(IPAddress("10.0.0.2")?.bytes, [10, 0, 0, 2])
        XCTAssertEqual(IPAddress("10.0.0.2")?.family, .ipv4)
        XCTAssertEqual(IPAddress("2001:0db8:0:0::1")?.description, "2001:db8::1")
        XCTAssertEqual(IPAddress("::ffff:10.0.0.1")?.family, .ipv6)
        XCTAssertEqual(IPAddress("10.0.0.2")?.withPort(80), "10.0.0.2:80")
        XCTAssertEqual(IPAddress("2001:db8::1")?.withPort(80), "[2001:db8::1]:80")
        XCTAssertEqual(IPAddress(ipv4: 0xffff_ff00).description, "255.255.255.0")
        XCTAssertEqual(IPAddress("192.168.1.1")?.ipv4Value, 0xc0a8_0101)
        for bad in ["", "10.0.0", "10.0.0.256", "2001:db8:::1", "[::1]", "host.example", "10.0.0.1 "] {
            XCTAssertNil(IPAddress(bad), bad)
        }
        XCTAssertNil(IPAddress(bytes: [1, 2, 3]))
    }

    func testBytesRoundTripAndOrder() {
        for text in ["10.0.0.2", "2001:db8::1", "::", "::ffff:10.0.0.1", "fe80::1:2:3:4"] {
            let address = IPAddress(text)!
            XCTAssertEqual(IPAddress(bytes: address.bytes), address, text)
        }
        XCTAssertLessThan(IPAddress("10.0.0.2")!, IPAddress("10.0.0.10")!)
        XCTAssertLessThan(IPAddress("255.255.255.255")!, IPAddress("::1")!, "IPv4 before IPv6")
    }
}
