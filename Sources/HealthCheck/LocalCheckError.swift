#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A check that failed because of this director, not the server: `socket()`, `connect()` setup, `pipe()` or
/// `posix_spawn()` ran out of descriptors (EMFILE, ENFILE), kernel buffers (ENOBUFS) or memory (ENOMEM, EAGAIN for
/// a process). Such a failure says nothing about the real server, so it is never a verdict (see
/// ``HealthCheckResult/inconclusive(_:)``).
public struct LocalCheckError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The system call that failed (`socket`, `connect`, `pipe`, `posix_spawn`).
    public var call: String
    public var errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// Errors that are about this host's resources whatever the peer.
    static let localErrnos: Set<Int32> = [EMFILE, ENFILE, ENOBUFS, ENOMEM]

    /// `errno` after `call` as a local error, nil when it is not one; `process` adds EAGAIN (fork's "no more
    /// processes").
    static func classify(call: String, errno code: Int32, process: Bool = false) -> LocalCheckError? {
        guard localErrnos.contains(code) || (process && code == EAGAIN) else { return nil }
        return LocalCheckError(call: call, errno: code)
    }

    public var name: String {
        switch errno {
        case EMFILE: "EMFILE"
        case ENFILE: "ENFILE"
        case ENOBUFS: "ENOBUFS"
        case ENOMEM: "ENOMEM"
        case EAGAIN: "EAGAIN"
        default: "errno \(errno)"
        }
    }

    public var description: String {
        "\(call): \(String(cString: strerror(errno))) (\(name), on this director: no verdict on the server)"
    }
}
