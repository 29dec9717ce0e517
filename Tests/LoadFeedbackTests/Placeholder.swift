import XCTest
@testable import LoadFeedback

final class LoadFeedbackPlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(LoadFeedbackModule.self as Any) }
}
