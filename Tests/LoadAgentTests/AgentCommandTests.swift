import Foundation
import XCTest

/// The h2e-agent binary (built next to the test bundle) run as cron and operators run it.
final class AgentCommandTests: XCTestCase {
    func testSampleOnThisMachineThenDuplicateRunExitsZero() throws {
        let agent = try Tools.requireAgent()
        let rrdtool = try Tools.require("rrdtool")
        let dir = try TemporaryDirectory()
        let first = try Tools.run(agent, ["sample", "--dir", dir.path])
        XCTAssertEqual(first.status, 0, first.stderr)
        let second = try Tools.run(agent, ["sample", "--dir", dir.path])
        // Unless the minute turned between the two runs, the second one is a duplicate.
        XCTAssertEqual(second.status, 0, second.stderr)
        let last = try Tools.run(rrdtool, ["lastupdate", "\(dir.path)/cpus.rrd"])
        XCTAssertEqual(last.status, 0)
        let cpus = last.stdout.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let stat = try String(contentsOfFile: "/proc/stat", encoding: .utf8)
        let cpuLines = stat.split(separator: "\n").filter { $0.hasPrefix("cpu") && !$0.hasPrefix("cpu ") }
        XCTAssertEqual(cpus, String(cpuLines.count))

        let report = try Tools.run(agent, ["report", "--dir", dir.path, "--period", "hour", "--server-id", "web9"])
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertTrue(report.stdout.contains("web9"))
        XCTAssertTrue(report.stdout.contains("mem_available"), report.stdout)
        XCTAssertEqual(try Tools.run(agent, ["report", "--dir", dir.path, "--period", "decade"]).status, 64, "usage error")
    }

    func testConcurrentSamplesDoNotCorruptAnything() throws {
        let agent = try Tools.requireAgent()
        let rrdtool = try Tools.require("rrdtool")
        let dir = try TemporaryDirectory()
        let processes = try (0..<8).map { _ -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: agent)
            p.arguments = ["sample", "--dir", dir.path]
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in processes {
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        XCTAssertFalse(files.contains { $0.contains(".tmp.") }, "\(files)")
        for metric in ["load", "load1", "cpus", "mem_used", "tcp_established", "busy_workers"] {
            let info = try Tools.run(rrdtool, ["info", "\(dir.path)/\(metric).rrd"])
            XCTAssertEqual(info.status, 0, "\(metric): \(info.stderr)")
            XCTAssertTrue(info.stdout.contains("step = 60"))
        }
    }

    func testFailuresExitNonZeroWithAClearMessage() throws {
        let agent = try Tools.requireAgent()
        let dir = try TemporaryDirectory()
        try dir.write("load.rrd", "garbage")
        let corrupt = try Tools.run(agent, ["sample", "--dir", dir.path])
        XCTAssertEqual(corrupt.status, 1)
        XCTAssertTrue(corrupt.stderr.contains("load.rrd") && corrupt.stderr.contains("move it aside"), corrupt.stderr)
        let missing = try Tools.run(agent, ["sample", "--dir", "\(dir.path)/load.rrd/sub"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("cannot create the state directory"), missing.stderr)
        let clean = try TemporaryDirectory()
        let badURL = try Tools.run(agent, ["sample", "--dir", clean.path, "--status-url", "http://192.0.2.1/x"])
        XCTAssertEqual(badURL.status, 64, "a status URL off loopback is a usage error")
        XCTAssertTrue(badURL.stderr.contains("loopback"), badURL.stderr)
        XCTAssertEqual(try Tools.run(agent, ["serve", "--dir", clean.path, "--server-id", "a\u{7}b"]).status, 64)
        let badListen = try Tools.run(agent, ["serve", "--dir", dir.path, "--listen", "nonsense"])
        XCTAssertEqual(badListen.status, 1)
        XCTAssertTrue(badListen.stderr.contains("--listen"), badListen.stderr)
        let badCgroup = try Tools.run(agent, ["serve", "--dir", clean.path, "--listen", "127.0.0.1:0", "--cgroup", "no/such.service"])
        XCTAssertEqual(badCgroup.status, 1)
        XCTAssertTrue(badCgroup.stderr.contains("--cgroup") && badCgroup.stderr.contains("no/such.service"), badCgroup.stderr)
    }

    func testServeBinaryAnswersWithTheServerID() throws {
        let agent = try Tools.requireAgent()
        let curl = try Tools.require("curl")
        let dir = try TemporaryDirectory()
        XCTAssertEqual(try Tools.run(agent, ["sample", "--dir", dir.path]).status, 0)
        let port = try freeLoopbackPort()
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: agent)
        serve.arguments = ["serve", "--dir", dir.path, "--listen", "127.0.0.1:\(port)", "--server-id", "75"]
        serve.standardError = FileHandle.nullDevice
        try serve.run()
        defer {
            serve.terminate()
            serve.waitUntilExit()
        }
        var answer = CurlAnswer("")
        try waitUntil("serve answers") {
            answer = CurlAnswer(try Tools.run(curl, ["-s", "-i", "--max-time", "5", "http://127.0.0.1:\(port)/load.json"]).stdout)
            return answer.status == 200
        }
        XCTAssertEqual(answer.headers["x-server"], "75")
        XCTAssertTrue(answer.body.hasPrefix("{\"server\":\"75\",\"time\":"), answer.body)
    }

    func testCronEntry() throws {
        let cron = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("cron/h2e-agent")
        XCTAssertFalse(cron.lastPathComponent.contains("."), "cron.d ignores file names with dots")
        let text = try String(contentsOf: cron, encoding: .utf8)
        let jobs = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.contains("=") && !$0.isEmpty }
        XCTAssertEqual(jobs.count, 1)
        let fields = jobs[0].split(separator: " ", omittingEmptySubsequences: true)
        XCTAssertEqual(Array(fields.prefix(5)), ["*", "*", "*", "*", "*"], "every minute")
        XCTAssertEqual(fields[5], "h2e", "cron.d lines carry a user field: the agent's own user, as the timer and the load server")
        XCTAssertEqual(Array(fields[6...7]), ["h2e-agent", "sample"])
        XCTAssertTrue(text.hasSuffix("\n"), "cron ignores a last line without a newline")
    }
}
