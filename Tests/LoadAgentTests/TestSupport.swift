import Foundation
import Synchronization
import TestSupport
import XCTest

/// A temporary directory removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/h2e-agent-test.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ name: String, _ text: String) throws {
        let url = URL(fileURLWithPath: "\(path)/\(name)")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
}

/// The result of running a program.
struct ProgramResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum Tools {
    /// The build products directory (where h2e-agent is built next to the test bundle).
    static var productsDirectory: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // Inside a bundle layout (…/h2ePackageTests.xctest/Contents/MacOS) climb out of it.
        while dir.path.contains(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir.path
    }

    static var agent: String { "\(productsDirectory)/h2e-agent" }

    /// Full path of a tool on PATH; skips the test when missing (fails under CI=true).
    static func require(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        for dir in ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"] {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw unavailable("\(name) is not installed (scripts/apt/agent.list lists it)", file: file, line: line)
    }

    static func requireAgent() throws -> String {
        guard FileManager.default.isExecutableFile(atPath: agent) else {
            throw unavailable("h2e-agent is not built at \(agent); run swift build first")
        }
        return agent
    }

    /// Runs a program to completion (at most `timeout` seconds) and captures its output.
    @discardableResult
    static func run(_ program: String, _ arguments: [String], timeout: Double = 60) throws -> ProgramResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes concurrently with the wait so a chatty program cannot block on a full pipe.
        let outData = ReadBox()
        let errData = ReadBox()
        let group = DispatchGroup()
        for (pipe, box) in [(out, outData), (err, errData)] {
            group.enter()
            DispatchQueue.global().async {
                box.set(pipe.fileHandleForReading.readDataToEndOfFile())
                group.leave()
            }
        }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            throw POSIXError(.ETIMEDOUT)
        }
        process.waitUntilExit()
        return ProgramResult(
            status: process.terminationStatus, stdout: String(decoding: outData.get(), as: UTF8.self),
            stderr: String(decoding: errData.get(), as: UTF8.self))
    }
}

final class ReadBox: Sendable {
    private let data = Mutex(Data())
    func set(_ d: Data) { data.withLock { $0 = d } }
    func get() -> Data { data.withLock { $0 } }
}

/// A loopback TCP port nobody listens on right now.
func freeLoopbackPort() throws -> Int {
    let listener = try LoopbackListener()
    defer { listener.close() }
    return listener.port
}

/// A loopback TCP listener that never accepts: connections to it wait established in its backlog.
struct LoopbackListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// A client connection to it, established (the kernel completes the handshake into the backlog).
    func connect() throws -> Int32 {
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
        return client
    }

    func close() { _ = Glibc.close(fd) }
}

/// Polls `condition` every 20 ms until it holds, failing after `timeout` seconds.
func waitUntil(_ what: String, timeout: Double = 10, file: StaticString = #filePath, line: UInt = #line, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        usleep(20_000)
    }
    XCTFail("timed out after \(timeout) s waiting until \(what)", file: file, line: line)
    throw POSIXError(.ETIMEDOUT)
}

/// A blocking loopback TCP client for requests curl will not send (garbage, slow or idle clients).
final class RawClient {
    let fd: Int32

    init(port: Int, timeout: Double = 5, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        setTimeout(timeout)
    }

    deinit { close(fd) }

    func setTimeout(_ seconds: Double) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Reads until the server closes (true) or the receive timeout passes (false).
    func readToEnd() -> (text: String, closed: Bool) {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                data.append(contentsOf: buffer[0..<n])
            } else {
                return (String(decoding: data, as: UTF8.self), n == 0 || errno == ECONNRESET)
            }
        }
    }
}

/// A parsed `curl -s -i` answer.
struct CurlAnswer {
    var status: Int
    var headers: [String: String]
    var body: String

    init(_ output: String) {
        // Split head and body at the first empty line.
        let normalized = output.replacingOccurrences(of: "\r\n", with: "\n")
        let parts = normalized.components(separatedBy: "\n\n")
        let head = parts.first ?? ""
        body = parts.dropFirst().joined(separator: "\n\n")
        let lines = head.split(separator: "\n")
        status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        self.headers = headers
    }
}
