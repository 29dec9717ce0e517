import HostSystem
import NIOPosix

/// Runs lvs.cf's `active_cmd` / `inactive_cmd`: `/bin/sh -c COMMAND` through ``ChildProcess`` (default signals,
/// stdin /dev/null), its standard output and error the director's.
public enum ShellCommand {
    /// Runs `command` and waits for it on NIO's thread pool, never blocking the caller's executor. Throws unless it
    /// exits with 0.
    public static func run(_ command: String) async throws(ShellCommandError) {
        let process: ChildProcess
        do {
            process = try ChildProcess(
                executable: "/bin/sh", arguments: ["/bin/sh", "-c", command], output: .inherit, error: .inherit,
                ownProcessGroup: false)
        } catch {
            throw .spawn(command, error)
        }
        let status: ChildProcess.Status
        do {
            status = try await NIOThreadPool.singleton.runIfActive { process.wait() }
        } catch {
            throw .lost(command, "the thread pool stopped: \(error)")
        }
        switch status {
        case .exited(0): return
        case .exited(let code): throw .exited(command, status: code)
        case .signalled(let signal): throw .signalled(command, signal: signal)
        case .running, .lost: throw .lost(command, status.failure ?? "lost")
        }
    }
}

/// A failed `active_cmd` / `inactive_cmd`.
public enum ShellCommandError: Error, Sendable, Equatable, CustomStringConvertible {
    case spawn(String, ChildProcess.SpawnError)
    case exited(String, status: Int32)
    case signalled(String, signal: Int32)
    case lost(String, String)

    public var description: String {
        switch self {
        case .spawn(let command, let error): "cannot run /bin/sh -c '\(command)': \(error)"
        case .exited(let command, let status): "'\(command)' exited with status \(status)"
        case .signalled(let command, let signal): "'\(command)' was killed by signal \(signal)"
        case .lost(let command, let why): "'\(command)': \(why)"
        }
    }
}
