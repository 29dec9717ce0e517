import XCTest
@testable import HealthCheck

final class HealthCheckPlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(HealthCheckModule.self as Any) }
}
