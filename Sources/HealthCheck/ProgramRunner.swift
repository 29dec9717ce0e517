#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a `send_program` check: `/bin/sh -c COMMAND` in its own process group, stdin from /dev/null, stdout
/// captured (at most `outputLimit` bytes kept), the whole group killed at the timeout. Blocking: call it on a
/// thread pool.
enum ProgramRunner {
    static func run(_ command: String, expect: AnswerExpectation?, timeout: Duration, outputLimit: Int)
        -> HealthCheckResult
    {
        let start = ContinuousClock.now
        let deadline = start + timeout

        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else {
            let code = errno
            if let local = LocalCheckError.classify(call: "pipe", errno: code) { return .inconclusive(local) }
            return .failed(.programNotStarted(errnoText("pipe")))
        }
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
        // Close-on-exec, so programs spawned concurrently do not inherit (and hold open) this pipe. (pipe2 is not
        // imported; the window between the two calls only delays another check's end of file.)
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        defer { close(readEnd) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_addclose(&actions, writeEnd)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let arguments = ["/bin/sh", "-c", command]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }

        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, &argv, environ)
        close(writeEnd)
        guard spawned == 0 else {
            if let local = LocalCheckError.classify(call: "posix_spawn", errno: spawned, process: true) {
                return .inconclusive(local)
            }
            return .failed(.programNotStarted(String(cString: strerror(spawned))))
        }

        // Read stdout until end of file or the deadline.
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4_096)
        var timedOut = false
        reading: while true {
            let left = remainingMilliseconds(until: deadline)
            if left <= 0 { timedOut = true; break }
            var poller = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(left, Int64(Int32.max))))
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            if ready == 0 { continue }  // loop re-checks the deadline
            let count = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                break reading
            }
            if count == 0 { break }
            output.append(contentsOf: chunk.prefix(min(count, max(0, outputLimit - output.count))))
        }

        // Wait for the exit, killing the group at the deadline.
        if timedOut { kill(-pid, SIGKILL) }
        var status: Int32 = 0
        while true {
            let waited = waitpid(pid, &status, timedOut ? 0 : WNOHANG)
            if waited == pid { break }
            if waited < 0 {
                if errno == EINTR { continue }
                break
            }
            if remainingMilliseconds(until: deadline) <= 0 {
                kill(-pid, SIGKILL)
                timedOut = true
            } else {
                usleep(2_000)
            }
        }
        if timedOut { return .failed(.timeout) }

        if let expect {
            return expect.makeMatcher().judge(output, complete: true) == .match
                ? .passed : .failed(.unexpectedAnswer(HealthCheckFailure.excerpt(output)))
        }
        if exited(status) {
            let code = (status >> 8) & 0xff
            return code == 0 ? .passed : .failed(.programFailed(exitStatus: code))
        }
        return .failed(.programKilled(signal: status & 0x7f))
    }

    private static func exited(_ status: Int32) -> Bool { status & 0x7f == 0 }

    private static func remainingMilliseconds(until deadline: ContinuousClock.Instant) -> Int64 {
        let (seconds, attoseconds) = ContinuousClock.now.duration(to: deadline).components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }

    private static func errnoText(_ call: String) -> String {
        "\(call): \(String(cString: strerror(errno)))"
    }
}
