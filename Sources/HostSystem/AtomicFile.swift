#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Replaces a file's content so that readers see the old or the new bytes, never a mix, and a crash leaves one of
/// the two: the bytes go to a temporary file in the same directory, which is synced (its fsync and close checked:
/// a file that did not reach the disk must not replace one that did) and renamed over the target.
public enum AtomicFile {
    /// A write that did not happen: the target still has its old content.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// What failed: "create", "write", "sync", "rename ... to".
        public var operation: String
        public var path: String
        public var errno: Int32

        public var reason: String { String(cString: strerror(errno)) }
        public var description: String { "cannot \(operation) \(path): \(reason)" }
    }

    /// Writes `bytes` to `path` as described above; the new file gets `mode`. A symbolic link at the temporary
    /// name is refused, not followed.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(Failure) {
        let temporary = temporaryName(for: path)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw Failure(operation: "create", path: temporary, errno: errno) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                close(fd)
                unlink(temporary)
                throw Failure(operation: "write", path: temporary, errno: code)
            }
            offset += n
        }
        if fsync(fd) != 0 {
            let code = errno
            close(fd)
            unlink(temporary)
            throw Failure(operation: "sync", path: temporary, errno: code)
        }
        if close(fd) != 0 {
            let code = errno
            unlink(temporary)
            throw Failure(operation: "write", path: temporary, errno: code)
        }
        try rename(temporary, to: path)
    }

    /// Renames `from` over `to` (removing `from` if that fails), then syncs the directory so that the rename
    /// itself survives a crash (best effort: some file systems refuse a directory fsync).
    public static func rename(_ from: String, to: String) throws(Failure) {
        guard Glibc.rename(from, to) == 0 else {
            let code = errno
            unlink(from)
            throw Failure(operation: "rename \(from) to", path: to, errno: code)
        }
        let slash = to.lastIndex(of: "/")
        let directory = slash.map { $0 == to.startIndex ? "/" : String(to[..<$0]) } ?? "."
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    /// `.<name>.tmp.<pid>` in the same directory (same file system, so the rename is atomic; the pid keeps two
    /// processes writing one file from sharing a temporary).
    public static func temporaryName(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return "\(directory).\(name).tmp.\(getpid())"
    }
}
