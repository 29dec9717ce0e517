import HostSystem
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class ChildProcessTests: XCTestCase {
    /// The daemon ignores SIGPIPE (NIO does) and blocks signals for its handlers; its children must not inherit
    /// either, or a `send_program` pipeline such as `curl | head -1` never sees SIGPIPE.
    func testChildrenStartWithDefaultSignalsAndAnEmptyMask() throws {
        let previous = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previous) }
        var blocked = sigset_t()
        var old = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGHUP)
        pthread_sigmask(SIG_BLOCK, &blocked, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }

        let completion = try ChildProcess.run(
            shell: "exec grep -E '^Sig(Ign|Blk)' /proc/self/status", timeLimit: .seconds(10), outputLimit: 4_096)
        XCTAssertEqual(completion.status, .exited(0))
        // Bit n-1 is signal n. Only signals 1-31 count: glibc keeps 32 and 33 to itself (sigfillset leaves them
        // out, so no spawn attribute can reset them).
        var masks: [String: UInt64] = [:]
        for line in String(decoding: completion.output, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "\t")
            if parts.count == 2 { masks[String(parts[0])] = UInt64(parts[1], radix: 16) }
        }
        XCTAssertEqual(masks["SigBlk:"].map { $0 & 0x7FFF_FFFF }, 0, "blocked in the child")
        XCTAssertEqual(masks["SigIgn:"].map { $0 & 0x7FFF_FFFF }, 0, "ignored in the child")
    }

    func testTheEnvironmentIsTheOneGivenAndStandardErrorCanJoinTheOutput() throws {
        let completion = try ChildProcess.run(
            shell: "echo \"$ONLY\" $HOME; echo err >&2", environment: ["ONLY=this", "PATH=/bin:/usr/bin"],
            error: .toOutput, timeLimit: .seconds(10), outputLimit: 4_096)
        XCTAssertEqual(String(decoding: completion.output, as: UTF8.self), "this\nerr\n")
        let quiet = try ChildProcess.run(shell: "echo err >&2", timeLimit: .seconds(10), outputLimit: 4_096)
        XCTAssertEqual(quiet.output, [], "standard error goes to /dev/null unless asked for")
    }

    /// At the time limit the whole process group dies: the shell and what it started.
    func testTheTimeLimitKillsTheGroup() throws {
        let completion = try ChildProcess.run(
            shell: "sleep 30 & echo $!; wait", timeLimit: .milliseconds(500), outputLimit: 4_096)
        XCTAssertTrue(completion.timedOut)
        XCTAssertEqual(completion.status, .signalled(SIGKILL))
        let text = String(decoding: completion.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let sleeper = try XCTUnwrap(pid_t(text), "the shell printed the background pid: \(text)")
        // Killed with its group; once reaped by init (or its zombie gone with the shell) kill(0) fails.
        let deadline = ContinuousClock.now + .seconds(10)
        while kill(sleeper, 0) == 0, ContinuousClock.now < deadline { usleep(20_000) }
        XCTAssertNotEqual(kill(sleeper, 0), 0, "the background sleep outlived the time limit")
    }

    func testAMissingProgramIsASpawnErrorWithItsErrno() {
        XCTAssertThrowsError(try ChildProcess(executable: "/nonexistent/program", arguments: ["program"])) { error in
            let spawn = error as? ChildProcess.SpawnError
            XCTAssertEqual(spawn?.call, "posix_spawn")
            XCTAssertEqual(spawn?.errno, ENOENT)
        }
        XCTAssertThrowsError(try ChildProcess.resolve("no-such-program-h2e", searchPath: "/bin:/usr/bin"))
        XCTAssertEqual(try ChildProcess.resolve("sh", searchPath: "/nonexistent:/bin"), "/bin/sh")
    }
}
