import XCTest

final class KernelPlaceholderTests: XCTestCase {
    func testPlaceholder() {}
}
