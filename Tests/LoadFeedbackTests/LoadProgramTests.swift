#if canImport(Glibc)
import Glibc
#endif
import LoadFeedback
import NIOCore
import XCTest

/// Load programs (Piranha's `load_monitor`) run for real: small shell scripts in a temporary directory.
final class LoadProgramTests: XCTestCase {
    var scripts: ScriptDirectory!

    override func setUpWithError() throws {
        scripts = try ScriptDirectory()
    }

    override func tearDown() {
        scripts.remove()
    }

    func run(_ body: String, address: String = "10.0.0.7", deadline: TimeAmount = .seconds(5)) async throws -> LoadReading {
        let path = try scripts.script("load", body)
        let program = LoadProgram(
            command: path, configuration: .init(deadline: deadline, maximumOutput: 1024))
        return await program.run(address: address)
    }

    func testPlainNumber() async throws {
        let result = try await run("echo 0.42")
        XCTAssertEqual(result.loadValue, 0.42)
    }

    func testUptimeOutputGivesTheOneMinuteFigure() async throws {
        let result = try await run("echo ' 10:00:01 up 1 day,  2:03,  1 user,  load average: 1.50, 0.58, 0.59'")
        XCTAssertEqual(result.loadValue, 1.5)
    }

    func testTheServerAddressIsTheArgumentAndTheLocaleIsC() async throws {
        let result = try await run(#"[ "$1" = 10.0.0.7 ] && [ $# = 1 ] && [ "$LC_ALL" = C ] && echo 0.3 || echo "wrong: $*""#)
        XCTAssertEqual(result.loadValue, 0.3)
    }

    func testGarbageIsMalformed() async throws {
        let result = try await run("echo banana")
        XCTAssertEqual(result.failure?.kind, "malformed")
    }

    func testNoOutputIsMalformed() async throws {
        let result = try await run("true")
        XCTAssertEqual(result.failure, .malformed("no output"))
    }

    func testImplausibleFiguresAreFailures() async throws {
        for figure in ["nan", "-1", "5000", "inf"] {
            let result = try await run("echo \(figure)")
            XCTAssertEqual(result.failure?.kind, "implausible", figure)
        }
    }

    func testNonZeroExitIsAFailureEvenWithAFigure() async throws {
        let result = try await run("echo 0.5; exit 3")
        XCTAssertEqual(result, .failed(.programFailed("exited with status 3")))
    }

    func testKilledBySignalIsAFailure() async throws {
        let result = try await run("kill -KILL $$")
        XCTAssertEqual(result, .failed(.programFailed("killed by signal 9")))
    }

    func testOversizedOutputIsAFailure() async throws {
        let result = try await run("i=0; while [ $i -lt 300 ]; do echo 0.5; i=$((i+1)); done")
        XCTAssertEqual(result, .failed(.tooLarge(limit: 1024)))
    }

    func testSlowProgramTimesOutAndIsKilledWithWhatItStarted() async throws {
        let body = """
            echo $$ > \(scripts.path)/pid
            sleep 30 &
            echo $! > \(scripts.path)/child
            wait
            echo 0.5
            """
        let result = try await run(body, deadline: .milliseconds(500))
        XCTAssertEqual(result, .failed(.timedOut(.milliseconds(500))))
        let pid = try XCTUnwrap(scripts.read("pid").flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        let child = try XCTUnwrap(scripts.read("child").flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        // The program is reaped (not even a zombie) and its child killed; both within a generous deadline.
        try await waitUntil("program \(pid) and its child \(child) gone") {
            kill(pid, 0) == -1 && errno == ESRCH && !processExists(child)
        }
    }

    func testAChildKeepingTheOutputOpenMakesItTimeOutAndIsKilled() async throws {
        let result = try await run("sleep 30 & echo $! > \(scripts.path)/child; echo 0.5", deadline: .milliseconds(500))
        XCTAssertEqual(result, .failed(.timedOut(.milliseconds(500))))
        let child = try XCTUnwrap(scripts.read("child").flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        try await waitUntil("child \(child) gone") { !processExists(child) }
    }

    func testMissingProgramIsAFailure() async throws {
        let program = LoadProgram(command: "\(scripts.path)/does-not-exist")
        let result = await program.run(address: "10.0.0.7")
        XCTAssertEqual(result.failure?.kind, "program_failed")
    }

    func testPiranhaRemoteCommandIsFoundOnTheSearchPathAndGetsTheAddress() async throws {
        _ = try scripts.script("rup", #"echo "$1     up  3 days,  load average: 0.10, 0.20, 0.30""#)
        let source = try LoadSource(loadMonitor: "rup")
        guard case .program(let command, let rest) = source else { return XCTFail("\(source)") }
        let program = LoadProgram(
            command: command, argumentsAfterAddress: rest, configuration: .init(searchPath: scripts.path))
        let result = await program.run(address: "10.0.0.7")
        XCTAssertEqual(result.loadValue, 0.1)
    }

    func testManyProgramsRunConcurrently() async throws {
        let path = try scripts.script("load", #"case "$1" in 10.0.0.1) echo 0.1 ;; 10.0.0.2) exit 1 ;; *) sleep 30 ;; esac"#)
        let program = LoadProgram(command: path, configuration: .init(deadline: .seconds(2)))
        let readings = await program.run(addresses: ["10.0.0.1", "10.0.0.2", "10.0.0.3"])
        XCTAssertEqual(readings["10.0.0.1"]?.loadValue, 0.1)
        XCTAssertEqual(readings["10.0.0.2"], .failed(.programFailed("exited with status 1")))
        XCTAssertEqual(readings["10.0.0.3"], .failed(.timedOut(.seconds(2))))
    }
}

/// A live (not zombie) process with this pid exists.
func processExists(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
    // Field 3, after the parenthesised command name, is the state; Z is a zombie.
    guard let close = stat.lastIndex(of: ")") else { return false }
    return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}

/// Polls `condition` every 20 ms until it holds, failing after `timeout`.
func waitUntil(
    _ what: String, timeout: Duration = .seconds(10), file: StaticString = #filePath, line: UInt = #line,
    _ condition: () -> Bool
) async throws {
    let clock = ContinuousClock()
    let end = clock.now + timeout
    while !condition() {
        guard clock.now < end else { return XCTFail("not within \(timeout): \(what)", file: file, line: line) }
        try await Task.sleep(for: .milliseconds(20))
    }
}
