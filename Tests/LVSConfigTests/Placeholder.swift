import XCTest
@testable import LVSConfig

final class LVSConfigPlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(LVSConfigModule.self as Any) }
}
