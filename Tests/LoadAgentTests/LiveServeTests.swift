import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest

/// `h2e-agent serve` (the debug binary) measuring real CPU: its /load.json carries the live figure.
final class LiveServeTests: XCTestCase {
    var serve: Process?

    override func tearDown() {
        serve?.terminate()
        serve?.waitUntilExit()
        serve = nil
    }

    /// Starts the agent on a sampled state directory; returns its port.
    func startAgent(_ extra: [String], directory: TemporaryDirectory) throws -> Int {
        let agent = try Tools.requireAgent()
        XCTAssertEqual(try Tools.run(agent, ["sample", "--dir", directory.path]).status, 0)
        let port = try freeLoopbackPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: agent)
        process.arguments = ["serve", "--dir", directory.path, "--listen", "127.0.0.1:\(port)", "--server-id", "live"] + extra
        process.standardError = FileHandle.nullDevice
        try process.run()
        serve = process
        return port
    }

    /// The "live" object of /load.json, `nil` while it is null or the agent does not answer yet.
    func live(port: Int) throws -> [String: Any]? {
        let curl = try Tools.require("curl")
        let body = try Tools.run(curl, ["-s", "--max-time", "5", "http://127.0.0.1:\(port)/load.json"]).stdout
        let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return object?["live"] as? [String: Any]
    }

    /// Burns CPU on `threads` threads of this process for `seconds`.
    func burn(seconds: Double, threads: Int = 1) {
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            Thread {
                let end = Date().addingTimeInterval(seconds)
                var x = 0.0
                while Date() < end { x += 1 }
                _ = x
                group.leave()
            }.start()
        }
        group.wait()
    }

    func testLoadJSONCarriesALiveFigureThatSeesCPUBurnt() throws {
        let directory = try TemporaryDirectory()
        let port = try startAgent([], directory: directory)
        var live: [String: Any] = [:]
        try waitUntil("/load.json has a live figure", timeout: 10) {
            live = try self.live(port: port) ?? [:]
            return !live.isEmpty
        }
        // On a machine with a cgroup file system the agent measures the nearest cgroup with a limit, or the root.
        let source = try XCTUnwrap(live["source"] as? String)
        XCTAssertTrue(["cgroup", "host"].contains(source), source)
        XCTAssertEqual(live["cgroup"] is NSNull, source == "host")
        let window = try XCTUnwrap(live["window"] as? Double)
        XCTAssertGreaterThanOrEqual(window, 1)
        XCTAssertLessThan(window, 12)
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        let capacity = try XCTUnwrap(live["capacity"] as? Double)
        XCTAssertGreaterThan(capacity, 0)
        XCTAssertLessThanOrEqual(capacity, Double(cpus))
        XCTAssertTrue(live["in_flight"] is NSNull, "without --port nothing is counted: \(live)")
        burn(seconds: 1.5)
        try waitUntil("the CPU burnt shows as usage", timeout: 10) {
            live = try self.live(port: port) ?? [:]
            return (live["usage"] as? Double ?? 0) > 0 && (live["figure"] as? Double ?? 0) > 0
        }
        XCTAssertLessThanOrEqual(try XCTUnwrap(live["figure"] as? Double), 2)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(live["window"] as? Double), 2)
    }

    /// Real TCP connections held open to a "webserver" port and to another port: `in_flight` counts those of the
    /// `--port` only, queued (never accepted) as they are, and follows them when they close.
    func testInFlightCountsTheEstablishedConnectionsToTheServicePortOnly() throws {
        let web = try LoopbackListener()
        let other = try LoopbackListener()
        defer {
            web.close()
            other.close()
        }
        var held = try (0..<5).map { _ in try web.connect() }
        let others = try (0..<3).map { _ in try other.connect() }
        defer { (held + others).forEach { Glibc.close($0) } }

        let directory = try TemporaryDirectory()
        // A comma list (port 1 holds nothing here).
        let port = try startAgent(["--port", "\(web.port),1"], directory: directory)
        var live: [String: Any] = [:]
        try waitUntil("/load.json counts requests in flight", timeout: 10) {
            live = try self.live(port: port) ?? [:]
            return live["in_flight"] is Double || live["in_flight"] is Int
        }
        // The window's readings see the 5 (not the 3 to the other port, nor the agent's own connection: 8 or 6 would
        // never be 5). Waited for rather than taken from the first answer: /proc/net/tcp is no snapshot, and on a
        // machine whose table changes while it is read (thousands of sockets in TIME_WAIT during the suite) a reading
        // can miss a line, and the window's mean is off until that reading leaves it.
        try waitUntil("/load.json counts the 5 connections to the service port", timeout: 10) {
            live = try self.live(port: port) ?? [:]
            return live["in_flight"] as? Double == 5
        }

        // The clients go: the window's mean falls as readings without them come in.
        held.forEach { Glibc.close($0) }
        held = []
        try waitUntil("in_flight falls once the connections close", timeout: 10) {
            live = try self.live(port: port) ?? [:]
            return (live["in_flight"] as? Double ?? 5) < 4
        }
    }

    /// A real cgroup with a 0.2-CPU quota and a busy loop in it: the capacity is the quota and the loop is
    /// throttled.
    func testAQuotaIsTheCapacityAndThrottlingIsSeen() throws {
        let cgroup = try TestCgroup(quota: 0.2)
        let burner = Process()
        burner.executableURL = URL(fileURLWithPath: "/bin/sh")
        burner.arguments = ["-c", "while :; do :; done"]
        try burner.run()
        defer {
            burner.terminate()
            burner.waitUntilExit()
            withExtendedLifetime(cgroup) {}  // removed only once the burner has left it
        }
        try cgroup.add(burner.processIdentifier)

        let directory = try TemporaryDirectory()
        let port = try startAgent(["--cgroup", String(cgroup.path.dropFirst())], directory: directory)
        var live: [String: Any] = [:]
        try waitUntil("the live figure sees the burner throttled", timeout: 20) {
            live = try self.live(port: port) ?? [:]
            return (live["throttled"] as? Double ?? 0) > 0 && (live["window"] as? Double ?? 0) >= 2
        }
        XCTAssertEqual(live["source"] as? String, "cgroup")
        XCTAssertEqual(live["cgroup"] as? String, cgroup.path)
        XCTAssertEqual(try XCTUnwrap(live["capacity"] as? Double), 0.2, accuracy: 1e-9)
        XCTAssertGreaterThan(try XCTUnwrap(live["usage"] as? Double), 0)
        XCTAssertGreaterThan(try XCTUnwrap(live["throttled_usec"] as? Int), 0)
        let figure = try XCTUnwrap(live["figure"] as? Double)
        XCTAssertGreaterThan(figure, try XCTUnwrap(live["throttled"] as? Double), "usage share plus throttled share")
    }
}

