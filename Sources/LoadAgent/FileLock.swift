#if canImport(Glibc)
import Glibc
#endif

/// An exclusive flock(2) on a lock file, released when the holder closes it (or the process dies).
final class FileLock {
    private let fd: Int32
    let path: String

    /// Takes the lock, waiting at most `timeout` seconds for another holder.
    init(path: String, timeout: Double) throws(AgentError) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(operation: "open the lock file", path: path, reason: FileIO.errnoText()) }
        var waited = 0.0
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                let reason = FileIO.errnoText()
                close(fd)
                throw .io(operation: "lock", path: path, reason: reason)
            }
            guard waited < timeout else {
                close(fd)
                throw .lockTimeout(path: path)
            }
            usleep(50_000)
            waited += 0.05
        }
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }
}
