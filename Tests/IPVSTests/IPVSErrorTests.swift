import Foundation
import IPVS
import XCTest

final class IPVSErrorTests: XCTestCase {
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
