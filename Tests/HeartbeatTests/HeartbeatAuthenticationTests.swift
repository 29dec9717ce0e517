import Crypto
import Foundation
import XCTest

@testable import Heartbeat

final class HeartbeatAuthenticationTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/h2e-hbkey-XXXXXX".utf8CString)
        guard let path = mkdtemp(&template) else { throw XCTSkip("mkdtemp failed") }
        directory = String(cString: path)
    }

    override func tearDown() {
        _ = try? FileManager.default.removeItem(atPath: directory)
    }

    func write(_ content: String, mode: mode_t = 0o600) -> String {
        let path = directory + "/key"
        _ = FileManager.default.createFile(atPath: path, contents: Array(content.utf8).withUnsafeBytes { Data($0) })
        chmod(path, mode)
        return path
    }

    func testNoKeyRefusesUnlessExplicitlyUnauthenticated() throws {
        XCTAssertThrowsError(try HeartbeatAuthentication.resolve(keyFile: nil, auth: nil)) {
            XCTAssertEqual($0 as? HeartbeatKeyError, .noKey)
            XCTAssertTrue("\($0)".contains("heartbeat_auth = none"))
        }
        XCTAssertThrowsError(try HeartbeatAuthentication.resolve(keyFile: nil, auth: "hmac-sha256"))
        guard case .none = try HeartbeatAuthentication.resolve(keyFile: nil, auth: "none") else {
            return XCTFail("expected unauthenticated")
        }
        XCTAssertThrowsError(try HeartbeatAuthentication.resolve(keyFile: nil, auth: "md5")) {
            XCTAssertEqual($0 as? HeartbeatKeyError, .unknownAuthentication("md5"))
        }
        let path = write("a secret of enough bytes\n")
        XCTAssertThrowsError(try HeartbeatAuthentication.resolve(keyFile: path, auth: "none")) {
            XCTAssertEqual($0 as? HeartbeatKeyError, .keyWithoutAuthentication(path))
        }
    }

    func testKeyFileIsReadWithoutTrailingNewline() throws {
        let withNewline = try HeartbeatAuthentication.resolve(keyFile: write("a secret of enough bytes\n"), auth: nil)
        let without = try HeartbeatAuthentication.resolve(keyFile: write("a secret of enough bytes"), auth: nil)
        let m = HeartbeatMessage(state: .backup, configuredRole: .backup, senderID: 1, sequence: 1, bootID: 1, echo: 5)
        XCTAssertEqual(withNewline.seal(m), without.seal(m))
        let expected = HMAC<SHA256>.authenticationCode(
            for: m.body, using: SymmetricKey(data: Array("a secret of enough bytes".utf8)))
        XCTAssertEqual(Array(without.seal(m)[40...]), Array(expected))
    }

    func testKeyFileChecks() {
        XCTAssertThrowsError(try HeartbeatAuthentication.loadKey(path: directory + "/missing")) {
            guard case .unreadable = $0 as? HeartbeatKeyError else { return XCTFail("\($0)") }
        }
        let open = write("a secret of enough bytes", mode: 0o644)
        XCTAssertThrowsError(try HeartbeatAuthentication.loadKey(path: open)) {
            XCTAssertEqual($0 as? HeartbeatKeyError, .tooOpen(open, mode: 0o644))
            XCTAssertTrue("\($0)".contains("chmod 600"))
        }
        let short = write("short\n")
        XCTAssertThrowsError(try HeartbeatAuthentication.loadKey(path: short)) {
            XCTAssertEqual($0 as? HeartbeatKeyError, .tooShort(short, length: 5))
        }
    }
}
