import Foundation
import HealthCheck
import Heartbeat
import Logging
import Synchronization
import TestSupport
import XCTest

@testable import Director

/// ``FosService`` with real commands and a real service on loopback (busybox httpd started by `start_cmd`): the
/// executor starts it, checks it, and when it dies stops it and tells the heartbeat.
final class FosServiceTests: XCTestCase {
    func testStartsChecksAndOnAFailedCheckStopsAndReportsTheFailure() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/bin/busybox") else {
            throw unavailable("busybox is not installed (scripts/apt)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("h2e-fos-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "up\n".write(toFile: "\(directory)/index.html", atomically: true, encoding: .utf8)
        let port = Int.random(in: 20_000...60_000)
        let plan = FailoverPlan(
            name: "web", address: try VirtualAddress(address: "127.0.0.1 lo"),
            endpoint: try HealthEndpoint(host: "127.0.0.1", port: port),
            check: try HealthCheck.piranha(port: port, send: "GET / HTTP/1.0\\r\\n\\r\\n", expect: "HTTP"),
            interval: .milliseconds(300),
            startCommand: "busybox httpd -f -p 127.0.0.1:\(port) -h \(directory) </dev/null >/dev/null 2>&1 & echo $! > \(directory)/pid",
            stopCommand: "kill $(cat \(directory)/pid) 2>/dev/null; rm -f \(directory)/pid; echo stopped")
        let reports = Mutex<[Bool]>([])
        let service = FosService(plans: [plan], logger: Logger(label: "test")) { failed in
            reports.withLock { $0.append(failed) }
        }
        defer { if let pid = try? String(contentsOfFile: "\(directory)/pid", encoding: .utf8) { kill(Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, SIGKILL) } }

        await service.cleanUp()
        await service.roleChanged(active: true)
        let passing = await waitFor(.seconds(10)) {
            let web = await service.status().services[0]
            return web.lastCheck == "passed" && web.runsHere
        }
        let started = await service.status()
        XCTAssertTrue(passing, "\(started)")
        XCTAssertEqual(started.services[0].start.lastResult, "ok")
        XCTAssertEqual(started.services[0].stop.runs, 1, "the start-up's stop_cmd")
        XCTAssertFalse(started.failed)

        // The service dies: the next check fails, stop_cmd runs, the heartbeat is told.
        let pid = try String(contentsOfFile: "\(directory)/pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        kill(Int32(pid) ?? 0, SIGKILL)
        let failed = await waitFor(.seconds(10)) {
            let status = await service.status()
            return status.failed && status.services[0].stop.lastResult == "ok"
        }
        let after = await service.status()
        XCTAssertTrue(failed, "\(after)")
        XCTAssertEqual(reports.withLock { $0 }, [true])
        XCTAssertTrue(after.services[0].lastCheck?.hasPrefix("failed") ?? false, "\(after)")
        XCTAssertEqual(after.services[0].stop.lastOutput, "stopped\n")
        XCTAssertEqual(after.failures, 1)

        // The peer takes over: this director steps down; nothing runs here any more.
        await service.roleChanged(active: false)
        let stopped = await waitFor(.seconds(5)) { await service.status().services[0].state == "stopped" }
        let final = await service.status()
        XCTAssertTrue(stopped, "\(final)")
    }

    private func waitFor(_ timeout: Duration, _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return await condition()
    }
}
