import Foundation
import Logging
import NIOCore
import NIOPosix
import XCTest

@testable import Director

/// The control socket's read timeout and connection cap, with real sockets.
final class ConnectionGateTests: XCTestCase {
    func testTheControlSocketClosesASilentClientAndRefusesConnectionsOverItsCap() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("h2e-gate-\(UUID().uuidString.prefix(8)).sock").path
        let runtime = try RuntimeConfiguration.make(
            TestConfigurations.parse(TestConfigurations.web), file: "test.cf", localAddresses: [:]
        ).get()
        let core = DirectorCore(runtime: runtime, kernel: InMemoryIPVSKernel())
        let server = ControlServer(path: path, operations: DirectorOperations(core: core), logger: Logger(label: "test"), maximumConnections: 2)
        let task = Task { try await server.run() }
        defer { task.cancel() }
        let listening = await waitUntil(timeout: .seconds(10)) { access(path, F_OK) == 0 }
        XCTAssertTrue(listening)

        let silent = try connect(path)
        let second = try connect(path)
        defer {
            close(silent)
            close(second)
        }
        let admitted = await waitUntil(timeout: .seconds(5)) { server.gate.statistics.open == 2 }
        XCTAssertTrue(admitted, "\(server.gate.statistics)")
        // A third is closed at once: the cap.
        let third = try connect(path)
        defer { close(third) }
        XCTAssertTrue(closedByPeer(third, within: 3), "over the cap: closed at once")
        XCTAssertEqual(server.gate.statistics.refused, 1)
        // The silent ones are closed at the read timeout (5 s), not held.
        XCTAssertTrue(closedByPeer(silent, within: 10), "a silent client is closed at the read timeout")
        XCTAssertTrue(closedByPeer(second, within: 10), "the second silent client too")
        // Both slots are free again before the next client comes: the gate counts a connection until its channel is
        // closed, which can trail the client's end of file by a moment.
        let freed = await waitUntil(timeout: .seconds(5)) { server.gate.statistics.open == 0 }
        XCTAssertTrue(freed, "\(server.gate.statistics)")
        XCTAssertGreaterThanOrEqual(server.gate.statistics.timedOut, 2)
        // And a client that sends its line and half-closes still gets its answer.
        let client = try connect(path)
        defer { close(client) }
        let line = Array(#"{"command":"status"}"#.utf8) + [0x0A]
        XCTAssertEqual(line.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }, line.count)
        shutdown(client, Int32(SHUT_WR))
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while pollReadable(client, seconds: 10) {
            let n = chunk.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            answer += chunk[0..<n]
        }
        XCTAssertTrue(String(decoding: answer, as: UTF8.self).hasPrefix(#"{"ok":true"#), String(decoding: answer, as: UTF8.self))
    }

    private func connect(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw FixtureError("connect \(path): \(String(cString: strerror(errno)))") }
        return fd
    }

    private func pollReadable(_ fd: Int32, seconds: Int32) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, seconds * 1_000) == 1
    }

    /// Whether the peer closed `fd` (end of file) within `seconds`.
    private func closedByPeer(_ fd: Int32, within seconds: Int32) -> Bool {
        guard pollReadable(fd, seconds: seconds) else { return false }
        var byte: UInt8 = 0
        return read(fd, &byte, 1) <= 0
    }
}
