import XCTest
@testable import Heartbeat

final class HeartbeatPlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(HeartbeatModule.self as Any) }
}
