import HostSystem
import XCTest

@testable import Addressing

final class IPAddressTests: XCTestCase {
    func testIPv4ParsesStrictDottedDecimal() {
        XCTAssertEqual(IPAddress("10.0.0.1"), .v4(IPv4Address(10, 0, 0, 1)))
        XCTAssertEqual(IPAddress("255.255.255.255")?.description, "255.255.255.255")
        XCTAssertEqual(IPv4Address("192.168.1.10")?.rawValue, 0xC0A8_010A)
        for bad in ["10.0.0", "10.0.0.1.2", "256.0.0.1", "10.0.0.01", "10..0.1", "1.2.3.4 ", "", "a.b.c.d", "1.2.3.-4"]
        {
            XCTAssertNil(IPAddress(bad), bad)
        }
    }

    func testIPv6ParsesRFC4291Forms() {
        XCTAssertEqual(IPv6Address("::")?.groups, [0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(IPv6Address("::1")?.groups, [0, 0, 0, 0, 0, 0, 0, 1])
        XCTAssertEqual(IPv6Address("2001:db8::")?.groups, [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(
            IPv6Address("2001:DB8:0:0:8:800:200C:417A")?.groups, [0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a])
        XCTAssertEqual(IPv6Address("::ffff:10.0.0.1")?.groups, [0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001])
        XCTAssertEqual(IPv6Address("1:2:3:4:5:6:1.2.3.4")?.groups, [1, 2, 3, 4, 5, 6, 0x0102, 0x0304])
        for bad in [
            ":", ":::", "1:::2", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "::g", "1:", ":1",
            "1::2:3:4:5:6:7:8", "::1.2.3", "1.2.3.4::", "fe80::1%eth0",
        ] {
            XCTAssertNil(IPv6Address(bad), bad)
        }
    }

    func testIPv6FormatsAsRFC5952() {
        let cases = [
            ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),  // first of two equal runs
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),  // a single zero group is not compressed
            ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),  // the longest run
            ("0:0:0:0:0:0:0:0", "::"),
            ("0:0:0:0:0:0:0:1", "::1"),
            ("1:0:0:0:0:0:0:0", "1::"),
            ("::ffff:a00:1", "::ffff:10.0.0.1"),
            ("FE80::ABCD", "fe80::abcd"),
        ]
        for (input, canonical) in cases {
            XCTAssertEqual(IPAddress(input)?.description, canonical, input)
            XCTAssertEqual(IPAddress(canonical)?.description, canonical, "canonical form reads back: \(canonical)")
        }
    }

    func testFormatParseRoundTripAndRandomStrings() {
        var rng = SplitMix64(seed: 99)
        for _ in 0..<3000 {
            let groups = (0..<8).map { _ in
                Bool.random(using: &rng) ? 0 : UInt16.random(in: 0...UInt16.max, using: &rng)
            }
            let v6 = IPAddress.v6(IPv6Address(groups: groups))
            if IPAddress(v6.description) != v6 { XCTFail("\(v6) does not read back") }
            let v4 = IPAddress.v4(IPv4Address(rawValue: UInt32.random(in: 0...UInt32.max, using: &rng)))
            if IPAddress(v4.description) != v4 { XCTFail("\(v4) does not read back") }
        }
        let alphabet = Array("0123456789abcdefABCDEF:.:%x ")
        for _ in 0..<10_000 {
            let text = String(
                (0..<Int.random(in: 0...20, using: &rng)).map { _ in
                    alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]
                })
            if let address = IPAddress(text) {
                if IPAddress(address.description) != address { XCTFail("'\(text)' -> \(address) does not read back") }
            }
        }
    }
}
