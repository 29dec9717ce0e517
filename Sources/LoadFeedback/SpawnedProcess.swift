import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Serialises pipe creation and spawning in this process: a pipe is created without close-on-exec (Glibc's pipe2
/// is not visible to Swift) and marked just after; no other spawn of ours may run in between and inherit it.
private let spawnLock = Mutex(())

/// A child process started with posix_spawn in its own process group, its standard output a pipe (read end
/// ``output``, close-on-exec so that other children never inherit it), standard input and error on /dev/null,
/// default signal dispositions and an empty signal mask. Load programs and failover services' `start_cmd` /
/// `stop_cmd` (which also send their standard error into the pipe) are spawned through it.
public struct SpawnedProcess: Sendable {
    public let pid: pid_t
    /// Read end of the standard output pipe; owned by whoever takes it (NIO's pipe channel).
    public let output: CInt

    public enum Status: Sendable {
        case running
        /// Exited; nil for status 0, else what happened ("exited with status 3", "killed by signal 9").
        case exited(failure: String?)
        case lost(String)
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public var description: String
    }

    /// - Parameter errorToOutput: standard error goes into the output pipe too (else to /dev/null).
    public init(executable: String, arguments: [String], environment: [String], errorToOutput: Bool = false) throws {
        (pid, output) = try spawnLock.withLock { _ in
            try Self.spawn(
                executable: executable, arguments: arguments, environment: environment, errorToOutput: errorToOutput)
        }
    }

    private static func spawn(
        executable: String, arguments: [String], environment: [String], errorToOutput: Bool
    ) throws -> (pid_t, CInt) {
        var fds: [CInt] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw SpawnError(description: "cannot create a pipe: \(errnoText(errno))")
        }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        if errorToOutput {
            posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        // The Swift runtime and NIO ignore SIGPIPE; an ignored signal stays ignored across exec.
        for signal in [SIGPIPE, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD] {
            sigaddset(&defaults, signal)
        }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        close(fds[1])
        guard result == 0 else {
            close(fds[0])
            throw SpawnError(description: "cannot start \(executable): \(errnoText(result))")
        }
        return (pid, fds[0])
    }

    /// The program to execute: `command` itself if it has a slash, else the first executable of that name on
    /// `searchPath`.
    public static func resolve(_ command: String, searchPath: String) throws -> String {
        if command.contains("/") { return command }
        for directory in searchPath.split(separator: ":") {
            let candidate = "\(directory)/\(command)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw SpawnError(description: "\(command) not found on \(searchPath)")
    }

    /// Has it exited? Never blocks, and leaves an exited process a zombie (WNOWAIT): as long as it is not reaped
    /// its pid, and so its process group id, cannot be reused, and ``killGroup()`` stays safe.
    public func poll() -> Status {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else {
            let code = errno
            return code == EINTR ? .running : .lost(errnoText(code))
        }
        guard info._sifields._sigchld.si_pid == pid else { return .running }
        let status = info._sifields._sigchld.si_status
        switch info.si_code {
        case Int32(CLD_EXITED):
            return .exited(failure: status == 0 ? nil : "exited with status \(status)")
        default:
            return .exited(failure: "killed by signal \(status)")
        }
    }

    /// Collects the exited process (removes the zombie). Never blocks; false while it still runs.
    public func reap() -> Bool {
        var status: CInt = 0
        let result = waitpid(pid, &status, WNOHANG)
        return result == pid || (result == -1 && errno != EINTR)
    }

    /// SIGKILL to the whole process group (the program and what it started).
    public func killGroup() {
        kill(-pid, SIGKILL)
    }

    public func closeOutput() {
        close(output)
    }

}
