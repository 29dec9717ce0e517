import Foundation
import XCTest

/// A test that cannot run here (a tool not installed, a product not built, no IPVS kernel) skips and says why,
/// except under `CI=true`, where every test must run: there it fails, so CI cannot pass without running it.
///
///     guard FileManager.default.isExecutableFile(atPath: "/bin/busybox") else {
///         throw unavailable("busybox is not installed (scripts/apt)")
///     }
public func unavailable(_ reason: String, file: StaticString = #filePath, line: UInt = #line) -> XCTSkip {
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        XCTFail("CI: test not run: \(reason)", file: file, line: line)
    }
    return XCTSkip(reason)
}
