import XCTest

@testable import Heartbeat

final class VirtualAddressTests: XCTestCase {
    func testParsesPiranhaAddressLines() throws {
        let plain = try VirtualAddress(address: "192.168.1.10 eth0")
        XCTAssertEqual(plain.bytes, [192, 168, 1, 10])
        XCTAssertEqual(plain.prefixLength, 32)
        XCTAssertEqual(plain.device, "eth0")
        XCTAssertNil(plain.label)
        XCTAssertEqual(plain.address, "192.168.1.10")

        let alias = try VirtualAddress(address: "192.168.1.10   eth0:1", netmask: "255.255.255.0")
        XCTAssertEqual(alias.device, "eth0")
        XCTAssertEqual(alias.label, "eth0:1")
        XCTAssertEqual(alias.prefixLength, 24)
        XCTAssertEqual(alias.description, "192.168.1.10/24 dev eth0:1")

        let v6 = try VirtualAddress(address: "2001:db8::10 eth1")
        XCTAssertTrue(v6.isIPv6)
        XCTAssertEqual(v6.prefixLength, 128)
        XCTAssertEqual(v6.address, "2001:db8::10")
        XCTAssertEqual(try VirtualAddress(address: "2001:db8::10 eth1", netmask: "64").prefixLength, 64)
        XCTAssertEqual(try VirtualAddress(address: "10.0.0.1/28 eth0").prefixLength, 28)
        XCTAssertEqual(try VirtualAddress(address: "10.0.0.1 eth0", netmask: "0.0.0.0").prefixLength, 0)
    }

    func testRejectsBadInput() {
        let cases: [(String, String?, VirtualAddressError)] = [
            ("192.168.1.10", nil, .syntax("192.168.1.10")),
            ("192.168.1.10 eth0 extra", nil, .syntax("192.168.1.10 eth0 extra")),
            ("192.168.1.300 eth0", nil, .badAddress("192.168.1.300")),
            ("192.168.1.1 eth0:", nil, .badInterface("eth0:")),
            ("192.168.1.1 :1", nil, .badInterface(":1")),
            ("192.168.1.1 averyveryverylongname", nil, .badInterface("averyveryverylongname")),
            ("2001:db8::1 eth0:1", nil, .aliasOnIPv6("eth0:1")),
            ("192.168.1.1 eth0", "255.0.255.0", .badNetmask("255.0.255.0")),
            ("192.168.1.1 eth0", "33", .badNetmask("33")),
            ("2001:db8::1 eth0", "255.255.255.0", .badNetmask("255.255.255.0")),
        ]
        for (address, mask, expected) in cases {
            XCTAssertThrowsError(try VirtualAddress(address: address, netmask: mask), address) {
                XCTAssertEqual($0 as? VirtualAddressError, expected, address)
            }
        }
    }
}

final class AnnouncementFrameTests: XCTestCase {
    let mac: [UInt8] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55]

    func testGratuitousARPRequest() {
        let frame = AnnouncementFrame.gratuitousARP(address: [10, 0, 0, 7], mac: mac)
        XCTAssertEqual(frame.count, 60)
        XCTAssertEqual(Array(frame[0..<6]), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], "broadcast destination")
        XCTAssertEqual(Array(frame[6..<12]), mac)
        XCTAssertEqual(Array(frame[12..<14]), [0x08, 0x06])
        XCTAssertEqual(Array(frame[14..<22]), [0, 1, 8, 0, 6, 4, 0, 1], "Ethernet/IPv4 request")
        XCTAssertEqual(Array(frame[22..<28]), mac, "sender MAC")
        XCTAssertEqual(Array(frame[28..<32]), [10, 0, 0, 7], "sender IP")
        XCTAssertEqual(Array(frame[32..<38]), [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(Array(frame[38..<42]), [10, 0, 0, 7], "target IP = sender IP")
        XCTAssertEqual(Array(frame[42...]), [UInt8](repeating: 0, count: 18))
    }

    func testGratuitousARPReply() {
        let frame = AnnouncementFrame.gratuitousARP(address: [10, 0, 0, 7], mac: mac, form: .reply)
        XCTAssertEqual(frame[21], 2)
        XCTAssertEqual(Array(frame[32..<38]), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(Array(frame[38..<42]), [10, 0, 0, 7])
    }

    func testUnsolicitedNeighborAdvertisement() throws {
        let vip = try VirtualAddress(address: "2001:db8::10 eth0").bytes
        let frame = AnnouncementFrame.unsolicitedNeighborAdvertisement(address: vip, mac: mac)
        XCTAssertEqual(frame.count, 14 + 40 + 32)
        XCTAssertEqual(Array(frame[0..<6]), [0x33, 0x33, 0, 0, 0, 1])
        XCTAssertEqual(Array(frame[6..<12]), mac)
        XCTAssertEqual(Array(frame[12..<14]), [0x86, 0xDD])
        let ip = Array(frame[14..<54])
        XCTAssertEqual(ip[0] >> 4, 6)
        XCTAssertEqual(Int(ip[4]) << 8 | Int(ip[5]), 32, "payload length")
        XCTAssertEqual(ip[6], 58)
        XCTAssertEqual(ip[7], 255, "hop limit must be 255 or receivers drop it")
        XCTAssertEqual(Array(ip[8..<24]), vip)
        XCTAssertEqual(Array(ip[24..<40]), [0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        let icmp = Array(frame[54...])
        XCTAssertEqual(icmp[0], 136)
        XCTAssertEqual(icmp[4], 0x20, "override set, solicited and router clear")
        XCTAssertEqual(Array(icmp[8..<24]), vip)
        XCTAssertEqual(Array(icmp[24..<32]), [2, 1] + mac)
        // A correct checksum makes the sum over pseudo-header and message come out as zero.
        XCTAssertEqual(AnnouncementFrame.icmpv6Checksum(source: vip, destination: Array(ip[24..<40]), message: icmp), 0)
        var corrupted = icmp
        corrupted[30] ^= 1
        XCTAssertNotEqual(
            AnnouncementFrame.icmpv6Checksum(source: vip, destination: Array(ip[24..<40]), message: corrupted), 0)
    }

    func testChecksumMatchesRFC1071Example() {
        // RFC 1071 section 3 example words 0001 f203 f4f5 f6f7 sum to ddf2 (one's complement sum, before inversion);
        // with an all-zero pseudo-header except the length (8) and next header (58) the sum gains 8 + 58.
        let message: [UInt8] = [0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]
        let zero = [UInt8](repeating: 0, count: 16)
        XCTAssertEqual(AnnouncementFrame.icmpv6Checksum(source: zero, destination: zero, message: message), ~UInt16(0xDDF2 + 8 + 58))
    }
}
