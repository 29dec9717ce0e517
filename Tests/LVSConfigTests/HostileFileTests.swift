import Foundation
import XCTest

@testable import LVSConfig

/// lvs.cf files an attacker or an unlucky operator leaves behind (issue 15, items 4 and 7).
final class HostileFileTests: XCTestCase {
    var directory = ""

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("h2e-lvscf-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testAFIFOIsRefusedAtOnceWithoutWaitingForAWriter() {
        let path = directory + "/lvs.cf"
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        // Would block for ever on open() without O_NONBLOCK: the test would hang, not fail.
        let result = LVSConfigParser.parseFile(atPath: path)
        XCTAssertNil(result.configuration)
        XCTAssertEqual(
            result.errors.map(\.description),
            ["\(path): is a FIFO (named pipe), not a regular file: lvs.cf must be a regular file"])
        let dir = LVSConfigParser.parseFile(atPath: directory)
        XCTAssertTrue(dir.errors.first?.description.contains("is a directory, not a regular file") == true, "\(dir.errors)")
        let device = LVSConfigParser.parseFile(atPath: "/dev/zero")
        XCTAssertTrue(device.errors.first?.description.contains("a character device") == true, "\(device.errors)")
    }

    func testAnOversizedFileIsRefusedBeforeReadingItWithTheBoundInTheMessage() throws {
        let path = directory + "/big.cf"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        XCTAssertEqual(truncate(path, off_t(LVSConfigParser.maximumFileSize + 1)), 0)
        let result = LVSConfigParser.parseFile(atPath: path)
        XCTAssertTrue(result.errors.first?.description.contains("larger than 4194304 bytes (4 MiB)") == true, "\(result.errors)")
    }

    func testEmptyCommentOnlyAndTruncatedFilesParseToNoVirtualServerOrFail() throws {
        for (name, text) in [("empty", ""), ("comments", "# lvs.cf\n# nothing\n")] {
            let path = directory + "/\(name).cf"
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let result = LVSConfigParser.parseFile(atPath: path)
            XCTAssertEqual(result.configuration?.virtualServers.count, 0, name)
        }
        // Cut in the middle of a block: an error, not a smaller configuration.
        let full = virtualBlock("    port = 80")
        let cut = String(full.prefix(full.count / 2))
        XCTAssertNil(LVSConfigParser.parse(cut, file: "lvs.cf").configuration, cut)
    }

    func testNamesWithCarriageReturnLineFeedOrTabAreRejectedWithTheirPosition() {
        for (escape, what) in [("\\r", "a carriage return"), ("\\n", "a line feed"), ("\\t", "a tab")] {
            let text = virtualBlock("    port = 80").replacing("virtual web {", with: "virtual \"we\(escape)b\" {")
            let errors = LVSConfigParser.parse(text, file: "lvs.cf").errors.map(\.description)
            XCTAssertEqual(
                errors, ["lvs.cf:1:9: the name of 'virtual' contains \(what) (\(escape)); names are one printable word"],
                escape)
        }
        let server = virtualBlock("    port = 80").replacing("server web1 {", with: "server 'web\\t1' {")
        XCTAssertTrue(
            LVSConfigParser.parse(server, file: "lvs.cf").errors.contains { $0.description.contains("the name of 'server' contains a tab") })
    }

    func testDiagnosticsEscapeControlCharactersAndEscapeSequences() {
        // Every diagnostic of a file full of escape sequences and control characters is one clean line.
        let text = "netw\u{1b}[31mork = direct\nvirtual \"a\u{1b}]0;x\u{7}\" {\n  scheduler = \"w\u{1b}[2Jlc\"\n}\n"
        let lines = diagnostics(text)
        XCTAssertFalse(lines.isEmpty)
        for line in lines {
            XCTAssertFalse(line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, line.debugDescription)
        }
        XCTAssertTrue(lines.contains { $0.contains("\\x1b") }, "\(lines)")
        XCTAssertEqual(LVSDiagnostic.escaped("a\u{1b}b\u{7}c\rd\u{9b}e"), "a\\x1bb\\x07c\\rd\\x9be")
        let file = LVSDiagnostic(severity: .error, file: "x\u{1b}]0;pwned\u{7}.cf", line: 1, column: 2, message: "m")
        XCTAssertEqual(file.description, "x\\x1b]0;pwned\\x07.cf:1:2: m")
    }
}
