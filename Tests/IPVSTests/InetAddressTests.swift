import Foundation
import IPVS
import XCTest

final class InetAddressTests: XCTestCase {
    func testParsesAndFormatsBothFamiliesCanonically() {
        XCTAssertEqual(InetAddress("10.0.0.2")?.bytes, [10, 0, 0, 2])
        XCTAssertEqual(InetAddress("10.0.0.2")?.family, .inet)
        XCTAssertEqual(InetAddress("2001:0db8:0:0::1")?.description, "2001:db8::1")
        XCTAssertEqual(InetAddress("::ffff:10.0.0.1")?.family, .inet6)
        XCTAssertEqual(InetAddress("10.0.0.2")?.withPort(80), "10.0.0.2:80")
        XCTAssertEqual(InetAddress("2001:db8::1")?.withPort(80), "[2001:db8::1]:80")
        XCTAssertEqual(InetAddress(ipv4: 0xffff_ff00).description, "255.255.255.0")
        XCTAssertEqual(InetAddress("192.168.1.1")?.ipv4Value, 0xc0a8_0101)
        for bad in ["", "10.0.0", "10.0.0.256", "2001:db8:::1", "[::1]", "host.example", "10.0.0.1 "] {
            XCTAssertNil(InetAddress(bad), bad)
        }
        XCTAssertNil(InetAddress(bytes: [1, 2, 3]))
    }

    func testErrorsSayWhatToDo() {
        XCTAssertTrue(IPVSError.notAvailable.description.contains("modprobe ip_vs"))
        XCTAssertTrue(IPVSError.schedulerUnavailable(.weightedRandomTwoChoices).description.contains("modprobe ip_vs_twos"))
        XCTAssertTrue(IPVSError.schedulerUnavailable(Scheduler(rawValue: "fast")).description.contains("unknown scheduler fast"))
        XCTAssertTrue(IPVSError.permissionDenied(operation: "list services").description.contains("CAP_NET_ADMIN"))
    }

    func testTheClientSaysWhenTheKernelHasNoIPVS() throws {
        // This machine's own kernel has no IPVS; where one does, the kernel tests cover the client.
        guard !FileManager.default.fileExists(atPath: "/proc/net/ip_vs") else {
            throw XCTSkip("this kernel has IPVS loaded; the no-IPVS error cannot be provoked here")
        }
        XCTAssertThrowsError(try IPVSClient()) { error in
            XCTAssertEqual(error as? IPVSError, .notAvailable)
        }
    }
}
