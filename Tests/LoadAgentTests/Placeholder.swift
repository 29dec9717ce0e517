import XCTest
@testable import LoadAgent

final class LoadAgentPlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(LoadAgentModule.self as Any) }
}
