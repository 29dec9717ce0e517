import Foundation
import HostSystem
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class AtomicFileTests: XCTestCase {
    func testReplacesTheContentAndLeavesNoTemporaryBehind() throws {
        var template = Array("/tmp/h2e-atomic.XXXXXX".utf8CString)
        let directory = String(cString: try XCTUnwrap(mkdtemp(&template)))
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/state.json"
        try AtomicFile.write(Array("old\n".utf8), to: path, mode: 0o600)
        try AtomicFile.write(Array("new\n".utf8), to: path, mode: 0o600)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["state.json"])
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)

        // A directory that is not there: the error names the call and the path, and nothing is written.
        XCTAssertThrowsError(try AtomicFile.write([1], to: directory + "/missing/state.json")) { error in
            let failure = error as? AtomicFile.Failure
            XCTAssertEqual(failure?.operation, "create")
            XCTAssertEqual(failure?.errno, ENOENT)
        }
    }
}
