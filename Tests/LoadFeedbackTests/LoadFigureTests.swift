import HostSystem
import AgentWire
import LoadFeedback
import NIOCore
import XCTest

final class LoadFigureTests: XCTestCase {
    func figure(_ text: String) -> Double? { try? LoadFigure.parse(text).get() }

    func testPlainNumbers() {
        XCTAssertEqual(figure("0.42\n"), 0.42)
        XCTAssertEqual(figure("  \n 0.5 \n"), 0.5)
        XCTAssertEqual(figure("3"), 3)
    }

    func testUptimeForms() {
        XCTAssertEqual(figure(" 10:00:01 up 1 day,  2:03,  1 user,  load average: 1.50, 0.58, 0.59\n"), 1.5)
        XCTAssertEqual(figure("10:00  up 2 days, 3 users, load averages: 2.25 1.90 1.80"), 2.25)
        XCTAssertEqual(figure("web1     up  3 days,  load average: 0.10, 0.20, 0.30"), 0.1)
        XCTAssertEqual(figure("Load: 0.7"), 0.7)
    }

    func testDecimalCommaOfAForeignLocale() {
        XCTAssertEqual(figure(" 10:00:01 up 1 day,  1 user,  Last: 0,52, 0,58, 0,59"), nil, "no word load")
        XCTAssertEqual(figure(" 10:00:01 up 1 day,  1 user,  load average: 0,52, 0,58, 0,59"), 0.52)
        XCTAssertEqual(figure("load average: 2, 1, 1"), 2, "a comma then a space separates figures")
    }

    func testGarbageSaysWhat() {
        for text in ["", "   \n", "banana", "1.5 extra", "load average:", "load average: high, low", "75%"] {
            guard case .failure(let failure) = LoadFigure.parse(text) else { return XCTFail("accepted \"\(text)\"") }
            XCTAssertEqual(failure.kind, "malformed", text)
        }
        XCTAssertEqual(try? LoadFigure.parse("").get(), nil)
        if case .failure(let failure) = LoadFigure.parse("banana") {
            XCTAssertTrue("\(failure)".contains("\"banana\" is not a number"), "\(failure)")
        }
    }
}

final class LoadSourceTests: XCTestCase {
    func testLoadMonitorValues() throws {
        XCTAssertEqual(try LoadSource(loadMonitor: nil), .none)
        XCTAssertEqual(try LoadSource(loadMonitor: "none"), .none)
        XCTAssertEqual(try LoadSource(loadMonitor: ""), .none)
        XCTAssertEqual(try LoadSource(loadMonitor: "h2e"), .agent(.cpu))
        XCTAssertEqual(try LoadSource(loadMonitor: "h2e-in-flight"), .agent(.inFlight))
        XCTAssertEqual(
            try LoadSource(loadMonitor: "/usr/sbin/h2e-load"),
            .program(command: "/usr/sbin/h2e-load", argumentsAfterAddress: []))
        XCTAssertEqual(try LoadSource(loadMonitor: "ssh"), .program(command: "ssh", argumentsAfterAddress: ["uptime"]))
        XCTAssertEqual(try LoadSource(loadMonitor: "rup"), .program(command: "rup", argumentsAfterAddress: []))
        XCTAssertEqual(try LoadSource(loadMonitor: "ssh").description, "ssh ADDRESS uptime")
    }

    func testRelativeProgramIsRejectedWithTheChoices() {
        XCTAssertThrowsError(try LoadSource(loadMonitor: "bin/load")) { error in
            XCTAssertEqual(error as? LoadSourceError, .unknown("bin/load"))
            XCTAssertTrue("\(error)".contains("absolute path"), "\(error)")
        }
    }
}

/// Random bytes into the parsers: rejected with a reason, never a crash.
final class GarbageInputTests: XCTestCase {
    func testRandomBytesAreRejected() {
        var random = SplitMix64(seed: 7)
        for round in 0..<2000 {
            let count = Int(random.next() % 200)
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if case .success(let report) = LoadDocument.decode(ByteBuffer(bytes: bytes)) {
                XCTFail("round \(round): random bytes decoded as \(report)")
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if case .success(let value) = LoadFigure.parse(text) {
                // Possible only if the bytes happen to hold a number; it must then be in the text.
                XCTAssertTrue(value.isFinite || text.lowercased().contains("nan") || text.lowercased().contains("inf"))
            }
        }
    }

    func testUnicodeAroundTheFigureDoesNotConfuseIndices() {
        // "İ" lowercases to two scalars: indices of the lowercased text differ from the original's.
        XCTAssertEqual(try? LoadFigure.parse("İİİİ load average: 0.50, 0.1, 0.1").get(), 0.5)
    }
}
