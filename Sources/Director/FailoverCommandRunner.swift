import HostSystem

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The outcome of one `start_cmd` or `stop_cmd`.
public struct FailoverCommandResult: Sendable, Hashable {
    /// nil when it exited with status 0; else what happened ("exited with status 3", "killed after the 30 s time
    /// limit", "cannot start /bin/sh: ...").
    public var failure: String?
    /// The first ``FailoverCommandRunner/outputLimit`` bytes of its standard output and error, as text.
    public var output: String
    /// Bytes of output beyond the kept ones (not kept).
    public var droppedOutput: Int
    public var duration: Duration

    public var succeeded: Bool { failure == nil }

    public init(failure: String?, output: String = "", droppedOutput: Int = 0, duration: Duration = .zero) {
        self.failure = failure
        self.output = output
        self.droppedOutput = droppedOutput
        self.duration = duration
    }
}

/// Runs a failover service's `start_cmd` / `stop_cmd`: `/bin/sh -c COMMAND` through ``ChildProcess/run(shell:environment:error:timeLimit:outputLimit:)``
/// (its own process group, stdin /dev/null, default signals), with a fixed environment (``environment``: nothing of
/// the daemon's is inherited), its standard output and error captured (the first ``outputLimit`` bytes kept), and
/// killed with its whole process group when it runs past `timeLimit`.
///
/// The command is done when the shell exits: a service it started in the background may keep the output pipe open,
/// so reading stops there. Such a service must not write to it afterwards (redirect its output, or let it
/// daemonise). Blocking: call it on a thread pool.
public enum FailoverCommandRunner {
    public static let environment = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "LANG=C"]
    public static let outputLimit = 4_096

    public static func run(_ command: String, timeLimit: Duration) -> FailoverCommandResult {
        let start = ContinuousClock.now
        let completion: ChildProcess.Completion
        do {
            completion = try ChildProcess.run(
                shell: command, environment: environment, error: .toOutput, timeLimit: timeLimit,
                outputLimit: outputLimit)
        } catch {
            return FailoverCommandResult(failure: "\(error)", duration: start.duration(to: .now))
        }
        return FailoverCommandResult(
            failure: completion.timedOut ? "killed after its time limit of \(timeLimit)" : completion.status.failure,
            output: String(decoding: completion.output, as: UTF8.self), droppedOutput: completion.droppedOutput,
            duration: completion.duration)
    }
}
