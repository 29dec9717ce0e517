import XCTest
@testable import IPVS

final class IPVSPlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(IPVSModule.self as Any) }
}
