import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Runs lvs.cf's `active_cmd` / `inactive_cmd`: `/bin/sh -c COMMAND`, with the director's stdout and stderr.
public enum ShellCommand {
    /// Runs `command` and waits for it without blocking the caller's executor. Throws unless it exits with 0.
    public static func run(_ command: String) async throws(ShellCommandError) {
        var pid = pid_t()
        let arguments = ["/bin/sh", "-c", command]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // The child starts with default signal dispositions and an empty mask, whatever the daemon set up for itself
        // (NIO ignores SIGPIPE; signal handling may block SIGTERM and SIGHUP).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        var none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let rc = posix_spawn(&pid, "/bin/sh", nil, &attributes, &argv, environ)
        guard rc == 0 else { throw .spawn(command, errno: rc) }
        let child = pid
        let status: Int32
        do {
            status = try await NIOThreadPool.singleton.runIfActive {
                var status: Int32 = 0
                while waitpid(child, &status, 0) < 0 && errno == EINTR {}
                return status
            }
        } catch {
            throw .spawn(command, errno: ECHILD)
        }
        if status & 0x7F != 0 { throw .signalled(command, signal: status & 0x7F) }
        let code = (status >> 8) & 0xFF
        if code != 0 { throw .exited(command, status: code) }
    }
}

/// A failed `active_cmd` / `inactive_cmd`.
public enum ShellCommandError: Error, Sendable, Hashable, CustomStringConvertible {
    case spawn(String, errno: Int32)
    case exited(String, status: Int32)
    case signalled(String, signal: Int32)

    public var description: String {
        switch self {
        case .spawn(let command, let code): "cannot run /bin/sh -c '\(command)': \(String(cString: strerror(code)))"
        case .exited(let command, let status): "'\(command)' exited with status \(status)"
        case .signalled(let command, let signal): "'\(command)' was killed by signal \(signal)"
        }
    }
}
