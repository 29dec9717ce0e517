import Addressing
import XCTest

@testable import LVSConfig

/// Parses `text`, failing the test (at the caller) on any error.
func parseValid(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> (
    LVSConfiguration, [LVSDiagnostic]
) {
    let result = LVSConfigParser.parse(text, file: "lvs.cf")
    guard let configuration = result.configuration else {
        XCTFail(
            "unexpected errors:\n" + result.errors.map(\.description).joined(separator: "\n"), file: file, line: line)
        return (LVSConfiguration(), result.diagnostics)
    }
    return (configuration, result.warnings)
}

/// The diagnostics of `text`, as printed.
func diagnostics(_ text: String) -> [String] {
    LVSConfigParser.parse(text, file: "lvs.cf").diagnostics.map(\.description)
}

/// A minimal valid virtual block around `body` lines.
func virtualBlock(_ body: String, name: String = "web") -> String {
    """
    virtual \(name) {
        active = 1
        address = 10.0.0.10 eth0:1
    \(body)
        server web1 {
            address = 10.0.0.2
            active = 1
        }
    }

    """
}

func ip(_ text: String) -> IPAddress { IPAddress(text)! }
