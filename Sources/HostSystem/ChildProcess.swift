import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Serialises pipe creation and spawning in this process: a pipe is created without close-on-exec (Glibc's pipe2
/// is not visible to Swift) and marked just after; no other spawn may run in between and inherit it. Every child
/// of the daemon is spawned here, so the window is closed for all of them.
private let spawnLock = Mutex(())

/// A child process started with posix_spawn: the one way h2e starts programs (`send_program` checks, load
/// programs, failover services' `start_cmd` / `stop_cmd`, `active_cmd` / `inactive_cmd`).
///
/// The child starts with default signal dispositions and an empty signal mask, whatever the daemon set up for
/// itself (the Swift runtime and NIO ignore SIGPIPE, and an ignored signal stays ignored across exec; signal
/// handling blocks SIGTERM and SIGHUP). Its standard input is /dev/null. Its standard output is a pipe (read end
/// ``output``, close-on-exec so that other children never inherit it) or the daemon's; its standard error goes to
/// the pipe, to /dev/null or to the daemon's. By default it leads a process group of its own, so that
/// ``killGroup()`` stops it and whatever it started.
public struct ChildProcess: Sendable {
    public let pid: pid_t
    /// Read end of the standard output pipe (-1 with ``Output/inherit``); owned by whoever takes it.
    public let output: CInt

    /// Where the child's standard output goes.
    public enum Output: Sendable {
        /// A pipe whose read end is ``ChildProcess/output``.
        case pipe
        /// The daemon's own standard output.
        case inherit
    }

    /// Where the child's standard error goes.
    public enum ErrorOutput: Sendable {
        /// Into the output pipe (or the daemon's standard output), after standard output.
        case toOutput
        case null
        /// The daemon's own standard error.
        case inherit
    }

    public enum Status: Sendable, Equatable {
        case running
        /// Exited with this status (0: success).
        case exited(Int32)
        case signalled(Int32)
        /// Someone else reaped it: its pid may be reused, never signal it.
        case lost(String)

        /// nil for a clean exit, else what happened ("exited with status 3", "killed by signal 9").
        public var failure: String? {
            switch self {
            case .running: "still running"
            case .exited(0): nil
            case .exited(let status): "exited with status \(status)"
            case .signalled(let signal): "killed by signal \(signal)"
            case .lost(let why): "its exit status was lost (\(why))"
            }
        }
    }

    /// A child that could not be started: which call failed and its errno (a local resource error such as EMFILE
    /// or EAGAIN is no verdict on what the program would have done).
    public struct SpawnError: Error, Sendable, Equatable, CustomStringConvertible {
        public var call: String
        public var errno: Int32
        public var what: String

        public var description: String { "\(what): \(String(cString: strerror(errno)))" }
    }

    /// - Parameters:
    ///   - environment: the child's whole environment; nil passes the daemon's.
    ///   - ownProcessGroup: the child leads a new process group (``killGroup()`` reaches what it starts).
    public init(
        executable: String, arguments: [String], environment: [String]? = nil, output: Output = .pipe,
        error: ErrorOutput = .null, ownProcessGroup: Bool = true
    ) throws(SpawnError) {
        let spawned = spawnLock.withLock { _ in
            Self.spawn(
                executable: executable, arguments: arguments, environment: environment, output: output,
                error: error, ownProcessGroup: ownProcessGroup)
        }
        switch spawned {
        case .success(let (pid, fd)): (self.pid, self.output) = (pid, fd)
        case .failure(let failure): throw failure
        }
    }

    private static func spawn(
        executable: String, arguments: [String], environment: [String]?, output: Output, error: ErrorOutput,
        ownProcessGroup: Bool
    ) -> Result<(pid_t, CInt), SpawnError> {
        var fds: [CInt] = [-1, -1]
        if output == .pipe {
            guard pipe(&fds) == 0 else {
                return .failure(SpawnError(call: "pipe", errno: errno, what: "cannot create a pipe"))
            }
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if output == .pipe { posix_spawn_file_actions_adddup2(&actions, fds[1], 1) }
        switch error {
        case .toOutput: posix_spawn_file_actions_adddup2(&actions, 1, 2)
        case .null: posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        case .inherit: break
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        var none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        var flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
        if ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { $0.map { strdup($0) } + [nil] }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result =
            if let envp { posix_spawn(&pid, executable, &actions, &attributes, argv, envp) }
            else { posix_spawn(&pid, executable, &actions, &attributes, argv, environ) }
        if output == .pipe { close(fds[1]) }
        guard result == 0 else {
            if output == .pipe { close(fds[0]) }
            return .failure(SpawnError(call: "posix_spawn", errno: result, what: "cannot start \(executable)"))
        }
        return .success((pid, fds[0]))
    }

    /// The program to execute: `command` itself if it has a slash, else the first executable of that name on
    /// `searchPath`.
    public static func resolve(_ command: String, searchPath: String) throws(SpawnError) -> String {
        if command.contains("/") { return command }
        for directory in searchPath.split(separator: ":") {
            let candidate = "\(directory)/\(command)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw SpawnError(call: "access", errno: ENOENT, what: "\(command) not found on \(searchPath)")
    }

    /// Has it exited? Never blocks, and leaves an exited process a zombie (WNOWAIT): as long as it is not reaped
    /// its pid, and so its process group id, cannot be reused, and ``killGroup()`` stays safe.
    public func poll() -> Status {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else {
            let code = errno
            return code == EINTR ? .running : .lost(String(cString: strerror(code)))
        }
        guard info._sifields._sigchld.si_pid == pid else { return .running }
        let status = info._sifields._sigchld.si_status
        return info.si_code == Int32(CLD_EXITED) ? .exited(status) : .signalled(status)
    }

    /// Waits for the exit and collects the process. Blocking: call it on a thread pool.
    public func wait() -> Status {
        var status: CInt = 0
        while waitpid(pid, &status, 0) < 0 {
            let code = errno
            if code != EINTR { return .lost(String(cString: strerror(code))) }
        }
        return status & 0x7F == 0 ? .exited((status >> 8) & 0xFF) : .signalled(status & 0x7F)
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
        if output >= 0 { close(output) }
    }
}
