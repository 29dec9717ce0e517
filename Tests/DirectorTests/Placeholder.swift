import XCTest
@testable import Director

final class DirectorPlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(DirectorModule.self as Any) }
}
