import XCTest

@testable import LVSConfig

final class NetmaskTests: XCTestCase {
    func testNetmaskReadsDottedAndPrefixForms() throws {
        XCTAssertEqual(try Netmask.parse("255.255.255.0").get(), Netmask(prefixLength: 24))
        XCTAssertEqual(try Netmask.parse("0.0.0.0").get(), Netmask(prefixLength: 0))
        XCTAssertEqual(try Netmask.parse("255.255.255.255").get(), Netmask(prefixLength: 32))
        XCTAssertEqual(try Netmask.parse("64").get(), Netmask(prefixLength: 64))
        XCTAssertThrowsError(try Netmask.parse("255.0.255.0").get())
        XCTAssertThrowsError(try Netmask.parse("129").get())
        XCTAssertThrowsError(try Netmask.parse("mask").get())
        XCTAssertEqual(Netmask(prefixLength: 20).text(for: .ipv4), "255.255.240.0")
        XCTAssertEqual(Netmask(prefixLength: 20).text(for: .ipv6), "20")
    }
}

final class IPAddressPropertyTests: XCTestCase {
    /// Formatting then parsing gives the same address; random strings over the address alphabet never crash and
    /// whatever parses formats to a string that parses to the same address.
}
