import Foundation
import Logging
import TestSupport
import XCTest
@testable import LoadAgent

/// Samples written by the Sampler (fixture /proc, injected clock) and read back with Debian's rrdtool CLI.
final class RRDStoreTests: XCTestCase {
    let t0 = 1_800_000_000  // a multiple of 60
    /// Fixture directories live as long as the test.
    var keep: [TemporaryDirectory] = []

    func makeProc(loadavg: String = ProcFixtures.loadavg) throws -> TemporaryDirectory {
        let root = try TemporaryDirectory()
        try root.write("loadavg", loadavg)
        try root.write("stat", ProcFixtures.statLater)
        try root.write("meminfo", ProcFixtures.meminfo)
        try root.write("net/tcp", ProcFixtures.tcp)
        try root.write("net/tcp6", ProcFixtures.tcp6)
        keep.append(root)
        return root
    }

    func sampler(_ dir: String, proc: TemporaryDirectory) -> Sampler {
        Sampler(
            configuration: .init(directory: dir, procRoot: proc.path, servicePorts: [80, 443]),
            logger: Logger(label: "test"))
    }

    func testSampleIsReadBackByRrdtool() throws {
        let rrdtool = try Tools.require("rrdtool")
        let proc = try makeProc()
        let dir = try TemporaryDirectory()
        // Previous CPU counters: the delta to statLater is 40 % busy.
        try dir.write("cpu.state", try CPUTimes.parse(ProcFixtures.stat).stateLine)
        let outcome = try sampler(dir.path, proc: proc).run(now: { self.t0 + 7 })
        guard case .recorded(let sample, let created) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(sample.time, t0)
        XCTAssertEqual(created, Metric.allCases)

        func last(_ metric: Metric) throws -> String {
            let result = try Tools.run(rrdtool, ["lastupdate", "\(dir.path)/\(metric.fileName)"])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stdout.contains(metric.rawValue), result.stdout)
            return result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        }
        XCTAssertEqual(try last(.load), "\(t0): 0.42")
        XCTAssertEqual(try last(.load1), "\(t0): 0.84")
        XCTAssertEqual(try last(.load5), "\(t0): 0.52")
        XCTAssertEqual(try last(.load15), "\(t0): 0.31")
        XCTAssertEqual(try last(.cpus), "\(t0): 2")
        XCTAssertEqual(try last(.cpuUtil), "\(t0): 0.4")
        XCTAssertEqual(try last(.memUsed), "\(t0): \(2_000_000 * 1024)")
        XCTAssertEqual(try last(.memAvailable), "\(t0): \(6_021_268 * 1024)")
        XCTAssertEqual(try last(.tcpEstablished), "\(t0): 5")
        XCTAssertEqual(try last(.busyWorkers), "\(t0): U")

        let info = try Tools.run(rrdtool, ["info", "\(dir.path)/load.rrd"]).stdout
        XCTAssertTrue(info.contains("step = 60\n"), info)
        XCTAssertTrue(info.contains("ds[load].type = \"GAUGE\""))
        XCTAssertTrue(info.contains("ds[load].minimal_heartbeat = 120"))
        // AVERAGE then MAX; each: a day of minutes, a week of 5 minutes, a month of hours, a year of days.
        let expected = [("AVERAGE", 1, 1440), ("AVERAGE", 5, 2016), ("AVERAGE", 60, 744), ("AVERAGE", 1440, 366),
                        ("MAX", 1, 1440), ("MAX", 5, 2016), ("MAX", 60, 744), ("MAX", 1440, 366)]
        for (i, (cf, steps, rows)) in expected.enumerated() {
            XCTAssertTrue(info.contains("rra[\(i)].cf = \"\(cf)\""), "rra \(i) \(cf)")
            XCTAssertTrue(info.contains("rra[\(i)].pdp_per_row = \(steps)\n"), "rra \(i) steps")
            XCTAssertTrue(info.contains("rra[\(i)].rows = \(rows)\n"), "rra \(i) rows")
        }
        XCTAssertFalse(info.contains("rra[8]"))
    }

    func testMinutesAreFetchedAndMissedMinutesAreUnknown() throws {
        let rrdtool = try Tools.require("rrdtool")
        let dir = try TemporaryDirectory()
        let values = [(0, "1.00 0 0 1/1 1"), (60, "2.00 0 0 1/1 1"), (240, "3.00 0 0 1/1 1")]
        for (offset, loadavg) in values {
            let proc = try makeProc(loadavg: loadavg)
            let outcome = try sampler(dir.path, proc: proc).run(now: { self.t0 + offset + 3 })
            guard case .recorded = outcome else { return XCTFail("\(outcome)") }
        }
        let fetch = try Tools.run(
            rrdtool, ["fetch", "\(dir.path)/load1.rrd", "AVERAGE", "-r", "60", "-s", "\(t0 - 60)", "-e", "\(t0 + 240)"])
        XCTAssertEqual(fetch.status, 0, fetch.stderr)
        var rows: [Int: String] = [:]
        for line in fetch.stdout.split(separator: "\n") {
            let parts = line.split(separator: ":")
            guard parts.count == 2, let time = Int(parts[0]) else { continue }
            rows[time] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        XCTAssertEqual(Double(rows[t0] ?? ""), 1, "\(fetch.stdout)")
        XCTAssertEqual(Double(rows[t0 + 60] ?? ""), 2)
        XCTAssertTrue(rows[t0 + 120]?.contains("nan") ?? false, "missed minute must be unknown: \(fetch.stdout)")
        XCTAssertTrue(rows[t0 + 180]?.contains("nan") ?? false, "missed minute must be unknown: \(fetch.stdout)")
        XCTAssertEqual(Double(rows[t0 + 240] ?? ""), 3)
    }

    func testDuplicateRunSkipsAndKeepsTheFirstValue() throws {
        let dir = try TemporaryDirectory()
        _ = try sampler(dir.path, proc: try makeProc()).run(now: { self.t0 + 1 })
        let second = try sampler(dir.path, proc: try makeProc(loadavg: "9.00 9 9 1/1 1")).run(now: { self.t0 + 50 })
        guard case .skipped(let reason) = second else { return XCTFail("\(second)") }
        XCTAssertTrue(reason.contains("already sampled"), reason)
        XCTAssertEqual(try RRDStore(directory: dir.path).lastUpdate(.load1)?.value, 0.84)
        let late = try sampler(dir.path, proc: try makeProc()).run(now: { self.t0 - 30 })
        guard case .skipped = late else { return XCTFail("a clock behind the last sample must skip: \(late)") }
    }

    func testReportSummarisesThePeriod() throws {
        let dir = try TemporaryDirectory()
        for (i, load1) in ["1.00", "2.00", "3.00"].enumerated() {
            _ = try sampler(dir.path, proc: try makeProc(loadavg: "\(load1) 0.5 0.25 1/1 1")).run(now: { self.t0 + 60 * i })
        }
        let report = try LoadReport.make(store: RRDStore(directory: dir.path), server: "web1", period: .hour, now: t0 + 150)
        let load = try XCTUnwrap(report.rows.first { $0.metric == .load })
        XCTAssertEqual(load.current, 1.5)
        XCTAssertEqual(try XCTUnwrap(load.average), 1.0, accuracy: 1e-9)
        XCTAssertEqual(load.maximum, 1.5)
        XCTAssertEqual(report.status?.age, 30)
        let text = report.text
        XCTAssertTrue(text.contains("web1"))
        XCTAssertTrue(text.contains("load             "), text)
        XCTAssertTrue(text.contains("1.500"), text)
        XCTAssertTrue(text.contains("busy_workers"))
    }

    func testCorruptRRDIsAClearError() throws {
        let dir = try TemporaryDirectory()
        try dir.write("load.rrd", String(repeating: "not an rrd file\n", count: 100))
        XCTAssertThrowsError(try sampler(dir.path, proc: try makeProc()).run(now: { self.t0 })) { error in
            guard case AgentError.corruptRRD(let path, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "\(dir.path)/load.rrd")
            XCTAssertTrue("\(error)".contains("move it aside"), "\(error)")
        }
    }

    func testUnusableDirectoryIsAClearError() throws {
        let dir = try TemporaryDirectory()
        try dir.write("file", "x")
        XCTAssertThrowsError(try sampler("\(dir.path)/file", proc: try makeProc()).run(now: { self.t0 })) { error in
            XCTAssertTrue("\(error)".contains("not a directory"), "\(error)")
        }
        XCTAssertThrowsError(try sampler("\(dir.path)/no/such/dir", proc: try makeProc()).run(now: { self.t0 })) { error in
            XCTAssertTrue("\(error)".contains("cannot create the state directory"), "\(error)")
        }
    }

    func testDiskFullLeavesNoHalfWrittenFile() throws {
        guard getuid() == 0 else { throw unavailable("mounting a small tmpfs needs root") }
        let mount = try Tools.require("mount")
        let dir = try TemporaryDirectory()
        // Room for the lock and state files but not for one 75 kB RRD file.
        let mounted = try Tools.run(mount, ["-t", "tmpfs", "-o", "size=40k", "tmpfs", dir.path])
        guard mounted.status == 0 else {
            throw unavailable("cannot mount a tmpfs here: \(mounted.stderr)")
        }
        defer { _ = try? Tools.run(try Tools.require("umount"), [dir.path]) }
        XCTAssertThrowsError(try sampler(dir.path, proc: try makeProc()).run(now: { self.t0 })) { error in
            XCTAssertTrue("\(error)".contains("load.rrd"), "\(error)")
            XCTAssertTrue("\(error)".contains("no space left"), "\(error)")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        XCTAssertFalse(left.contains { $0.hasSuffix(".rrd") || $0.contains(".tmp.") }, "\(left)")
    }

    func testReadOnlyDirectoryIsAClearError() throws {
        guard getuid() == 0 else { throw unavailable("mounting a read-only tmpfs needs root") }
        let mount = try Tools.require("mount")
        let dir = try TemporaryDirectory()
        let mounted = try Tools.run(mount, ["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", dir.path])
        guard mounted.status == 0 else { throw unavailable("cannot mount a tmpfs here: \(mounted.stderr)") }
        defer { _ = try? Tools.run(try Tools.require("umount"), [dir.path]) }
        XCTAssertThrowsError(try sampler(dir.path, proc: try makeProc()).run(now: { self.t0 })) { error in
            XCTAssertTrue("\(error)".contains("Read-only file system"), "\(error)")
            XCTAssertTrue("\(error)".contains("writable"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    func testBusyWorkersFromALoopbackStatusPage() throws {
        let busybox = try Tools.require("busybox")
        let www = try TemporaryDirectory()
        try www.write("server-status", ProcFixtures.apacheStatus)
        let port = try freeLoopbackPort()
        let httpd = Process()
        httpd.executableURL = URL(fileURLWithPath: busybox)
        httpd.arguments = ["httpd", "-f", "-p", "127.0.0.1:\(port)", "-h", www.path]
        try httpd.run()
        defer { httpd.terminate(); httpd.waitUntilExit() }
        let url = "http://127.0.0.1:\(port)/server-status?auto"
        try waitUntil("busybox httpd answers") { (try? StatusPageClient(url: url).fetch()) != nil }

        let dir = try TemporaryDirectory()
        let configuration = Sampler.Configuration(
            directory: dir.path, procRoot: try makeProc().path, servicePorts: [80], statusURL: url)
        let outcome = try Sampler(configuration: configuration, logger: Logger(label: "test")).run(now: { self.t0 })
        guard case .recorded(let sample, _) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(sample.busyWorkers, 7)
        XCTAssertEqual(try RRDStore(directory: dir.path).lastUpdate(.busyWorkers)?.value, 7)

        // A status page that is down leaves busy_workers unknown but records the rest.
        let down = Sampler.Configuration(
            directory: dir.path, procRoot: try makeProc().path, servicePorts: [80], statusURL: "http://127.0.0.1:\(try freeLoopbackPort())/x")
        let second = try Sampler(configuration: down, logger: Logger(label: "test")).run(now: { self.t0 + 60 })
        guard case .recorded(let s2, _) = second else { return XCTFail("\(second)") }
        XCTAssertNil(s2.busyWorkers)
        XCTAssertEqual(s2.load1, 0.84)
    }
}
