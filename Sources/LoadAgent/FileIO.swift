import HostSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Small synchronous file helpers on POSIX calls (files in /proc report size 0, so read until EOF).
enum FileIO {
    static func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    /// The whole file, at most `limit` bytes. `noFollow` refuses a symbolic link as the last component.
    static func read(_ path: String, limit: Int = 64 << 20, noFollow: Bool = false) throws(AgentError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | (noFollow ? O_NOFOLLOW : 0))
        guard fd >= 0 else { throw .io(operation: "open", path: path, reason: errnoText()) }
        defer { close(fd) }
        if noFollow {
            var st = stat()
            guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
                throw .io(operation: "read", path: path, reason: "not a regular file")
            }
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read", path: path, reason: errnoText())
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            guard bytes.count <= limit else { throw .io(operation: "read", path: path, reason: "larger than \(limit) bytes") }
        }
        return bytes
    }

    static func readText(_ path: String) throws(AgentError) -> String {
        String(decoding: try read(path, limit: 16 << 20), as: UTF8.self)
    }

    /// Writes `bytes` to `path` through a synced temporary file and a rename (``AtomicFile``): readers see the old
    /// or the new content, never a half-written file.
    static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws(AgentError) {
        do {
            try AtomicFile.write(bytes, to: path)
        } catch {
            throw .io(operation: error.operation, path: error.path, reason: error.reason)
        }
    }

    static func rename(_ from: String, to: String) throws(AgentError) {
        do {
            try AtomicFile.rename(from, to: to)
        } catch {
            throw .io(operation: error.operation, path: error.path, reason: error.reason)
        }
    }

    static func temporaryName(for path: String) -> String { AtomicFile.temporaryName(for: path) }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}
