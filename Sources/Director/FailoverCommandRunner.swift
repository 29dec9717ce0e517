import LoadFeedback

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

/// Runs a failover service's `start_cmd` / `stop_cmd`: `/bin/sh -c COMMAND` spawned through ``SpawnedProcess`` (its
/// own process group, stdin /dev/null, default signals), with a fixed environment (``environment``: nothing of the
/// daemon's is inherited), its standard output and error captured (the first ``outputLimit`` bytes kept), and killed
/// with its whole process group when it runs past `timeLimit`.
///
/// The command is done when the shell exits: a service it started in the background may keep the output pipe open,
/// so reading stops there (what is already written is kept) instead of waiting for end of file. Such a service must
/// not write to it afterwards (redirect its output, or let it daemonise). Blocking: call it on a thread pool.
public enum FailoverCommandRunner {
    public static let environment = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "LANG=C"]
    public static let outputLimit = 4_096

    public static func run(_ command: String, timeLimit: Duration) -> FailoverCommandResult {
        let start = ContinuousClock.now
        let deadline = start + timeLimit
        let process: SpawnedProcess
        do {
            process = try SpawnedProcess(
                executable: "/bin/sh", arguments: ["/bin/sh", "-c", command], environment: environment,
                errorToOutput: true)
        } catch {
            return FailoverCommandResult(failure: "\(error)", duration: start.duration(to: .now))
        }
        var output: [UInt8] = []
        var dropped = 0
        var endOfOutput = false
        var chunk = [UInt8](repeating: 0, count: 4_096)
        // Reads what the pipe holds, waiting at most `milliseconds`; false at end of file or on an error.
        func readSome(waiting milliseconds: Int32) -> Bool {
            var poller = pollfd(fd: process.output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, milliseconds)
            if ready < 0 { return errno == EINTR }
            if ready == 0 { return true }
            let count = chunk.withUnsafeMutableBytes { read(process.output, $0.baseAddress, $0.count) }
            if count < 0 { return errno == EINTR || errno == EAGAIN }
            if count == 0 { return false }
            let kept = min(count, max(0, outputLimit - output.count))
            output.append(contentsOf: chunk.prefix(kept))
            dropped += count - kept
            return true
        }
        var failure: String??
        while failure == nil {
            switch process.poll() {
            case .running:
                if ContinuousClock.now >= deadline {
                    process.killGroup()
                    failure = .some("killed after its time limit of \(timeLimit)")
                } else if endOfOutput {
                    usleep(10_000)
                } else {
                    endOfOutput = !readSome(waiting: 20)
                }
            case .exited(let exitFailure):
                // What it wrote before exiting, without waiting for a background child to close the pipe.
                var rounds = 0
                while !endOfOutput, rounds < 64, readSome(waiting: 0) { rounds += 1 }
                failure = .some(exitFailure)
            case .lost(let why):
                failure = .some("its exit status was lost (\(why))")
            }
        }
        process.closeOutput()
        // Reap it (after a kill, once it died); bounded: a process that outlives SIGKILL for 2 s is left behind.
        var waits = 0
        while !process.reap(), waits < 200 {
            usleep(10_000)
            waits += 1
        }
        return FailoverCommandResult(
            failure: failure ?? nil, output: String(decoding: output, as: UTF8.self), droppedOutput: dropped,
            duration: start.duration(to: .now))
    }
}
