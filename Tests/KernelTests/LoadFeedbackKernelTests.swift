import Director
import Foundation
import XCTest

/// Load feedback end to end on the real kernel: `h2e-director run` (standalone) with `load_monitor = h2e` and
/// `weight_interval = 1` reads two real h2e-agents serving their RRD state directories, and the weights it writes
/// are read back with `ipvsadm -Ln`.
///
/// Everything lives in a network namespace the test creates: the real servers are addresses on its loopback
/// (10.0.1.2 and 10.0.1.3), each with its own `h2e-agent serve` on port 8181; the VIP sits on a veth pair. A load
/// change is a `rrdtool update` of the agent's load.rrd, load1.rrd and cpus.rrd at one instant (the agent serves
/// load1 / cpus at the time of load.rrd), so no sampling minute has to pass.
///
/// The policy counts a sample once: readings whose instants are within 5 s are the same sample (docs/weights.md),
/// so loads are written at least 6 s apart. One step then moves the factor by `(reference / load) ^ α` with
/// `α = 1 − exp(−dt / 240 s)` ≈ 0.03 for dt ≈ 7 s: with a configured weight of 100, loads 20 vs 1 move it by ~4.
final class LoadFeedbackKernelTests: XCTestCase {
    var namespace = ""
    var directory = ""
    /// Process ids of everything the test started (director, agents, busybox httpd), killed in tearDown.
    var pids: [String: Int32] = [:]

    let servers = ["web1": "10.0.1.2", "web2": "10.0.1.3"]
    let baseWeight = 100
    /// `load_hold_timeout`: long enough for the held-weight checks below, short enough to wait for its end.
    let holdTimeout = 20

    var products: String { productsDirectory.path }
    var socket: String { directory + "/sock" }

    override func setUp() async throws {
        try requireIPVSKernel()
        let missing = try shell("for t in rrdtool busybox curl ipvsadm; do command -v $t >/dev/null || echo $t; done").output
        if !missing.isEmpty {
            let reason = "needs \(missing.split(separator: "\n").joined(separator: ", ")) (scripts/apt/weights.list)"
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("CI: \(reason)") }
            throw XCTSkip(reason)
        }
        let id = String(UUID().uuidString.prefix(8)).lowercased()
        namespace = "h2elf\(id)"
        directory = "/tmp/h2e-lf-\(id)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try mustRun(
            "ip netns add \(namespace) && ip -n \(namespace) link set lo up"
                + " && ip -n \(namespace) addr add 10.0.1.2/32 dev lo && ip -n \(namespace) addr add 10.0.1.3/32 dev lo"
                + " && ip -n \(namespace) link add vip0 type veth peer name vip0p"
                + " && ip -n \(namespace) link set vip0 up && ip -n \(namespace) link set vip0p up")
    }

    override func tearDown() async throws {
        for pid in pids.values { kill(pid, SIGKILL) }
        pids = [:]
        _ = try? shell("ip netns del \(namespace)")
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Fixture

    var configuration: String {
        """
        network = direct
        hard_shutdown = 1
        weight_interval = 1
        load_hold_timeout = \(holdTimeout)
        agent_port = 8181
        virtual web {
            active = 1
            address = 10.0.0.10 vip0:1
            port = 80
            load_monitor = h2e
            send_program = "/bin/true"
            check_interval = 1
            timeout = 2
            server web1 {
                active = 1
                address = 10.0.1.2
                weight = \(baseWeight)
            }
            server web2 {
                active = 1
                address = 10.0.1.3
                weight = \(baseWeight)
            }
        }

        """
    }

    /// Starts `command` in the namespace in the background, output to `<name>.log`; remembers its pid as `name`.
    func start(_ name: String, _ command: String) throws {
        let pid = try mustRun(
            "ip netns exec \(namespace) \(command) < /dev/null > \(directory)/\(name).log 2>&1 & echo $!")
        pids[name] = Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func stop(_ name: String) async throws {
        guard let pid = pids.removeValue(forKey: name) else { return }
        kill(pid, SIGKILL)
        // Reaped by nobody but init: wait until the pid is gone (or a zombie) so its port is free.
        let gone = await waitUntil(timeout: .seconds(5)) {
            let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            return state.isEmpty || state.contains(") Z ")
        }
        XCTAssertTrue(gone, "\(name) (pid \(pid)) did not end")
    }

    func log(_ name: String) -> String {
        (try? String(contentsOfFile: "\(directory)/\(name).log", encoding: .utf8)) ?? ""
    }

    func stateDirectory(_ server: String) -> String { "\(directory)/agent-\(server)" }

    /// Creates the server's RRD files with one real sample (`h2e-agent sample`), then serves them.
    func startAgent(_ server: String) throws {
        let dir = stateDirectory(server)
        try mustRun("\(products)/h2e-agent sample --dir \(dir) --server-id \(server)")
        try startServingAgent(server)
    }

    func startServingAgent(_ server: String) throws {
        try start(
            "agent-\(server)",
            "\(products)/h2e-agent serve --dir \(stateDirectory(server)) --listen \(servers[server]!):8181 --server-id \(server)")
    }

    func waitForAgent(_ server: String) async throws {
        let up = await waitUntil(timeout: .seconds(10)) {
            (try? self.inNamespace("curl -sf http://\(self.servers[server]!):8181/load"))?.status == 0
        }
        XCTAssertTrue(up, log("agent-\(server)"))
    }

    /// A new sample of `load` per CPU (load1 = load, cpus = 1) at one instant after the last one; returns that
    /// instant (seconds since the epoch).
    @discardableResult
    func writeLoad(_ server: String, _ load: Double) throws -> Int {
        let out = try mustRun(
            """
            cd \(stateDirectory(server)) && now=$(date +%s) && last=$(rrdtool last load.rrd) && \
            t=$(( now > last ? now : last + 1 )) && \
            rrdtool update load1.rrd $t:\(load) && rrdtool update cpus.rrd $t:1 && rrdtool update load.rrd $t:\(load) && \
            echo $t
            """)
        return Int(out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last ?? "") ?? 0
    }

    func inNamespace(_ command: String) throws -> (status: Int32, output: String) {
        try shell("ip netns exec \(namespace) \(command)")
    }

    /// The kernel's weight of `server` in TCP 10.0.0.10:80 (`ipvsadm -Ln`), nil when it is not in the table.
    func kernelWeight(_ server: String) throws -> Int? {
        let listing = try inNamespace("ipvsadm -Ln").output
        let row = listing.split(separator: "\n").first { $0.contains(" \(servers[server]!):80 ") }
        return row?.split(separator: " ").dropFirst(3).first.flatMap { Int($0) }
    }

    func status() throws -> StatusReport? {
        let result = try inNamespace("\(products)/h2e-director status --json --socket \(socket)")
        guard result.status == 0 else { return nil }
        return try? JSONDecoder().decode(StatusReport.self, from: Data(result.output.utf8))
    }

    /// Waits until `server`'s kernel weight satisfies `condition`; returns the last weight seen.
    func waitForWeight(_ server: String, timeout: Duration = .seconds(15), _ condition: @escaping (Int) -> Bool) async throws
        -> Int?
    {
        var weight: Int?
        let ok = await waitUntil(timeout: timeout, interval: .milliseconds(100)) {
            weight = try? self.kernelWeight(server)
            return weight.map(condition) ?? false
        }
        XCTAssertTrue(ok, "weight of \(server) is \(weight.map(String.init) ?? "absent"): \(log("director"))")
        return weight
    }

    /// Sleeps until `instant` (seconds since the epoch) has passed: the policy takes samples closer than 5 s for
    /// one, so the next load must be written later than that.
    func sleep(untilEpoch instant: Int) async throws {
        let wait = Double(instant) - Date().timeIntervalSince1970
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
    }

    /// Agents with load 1.0 each, the director running, both servers at the configured weight, and the first
    /// samples read (the first reading of a server only starts it: nothing to compare with yet). Returns the
    /// instant of those samples.
    func startCluster() async throws -> Int {
        for server in servers.keys.sorted() { try startAgent(server) }
        var first = 0
        for server in servers.keys.sorted() {
            try await waitForAgent(server)
            first = max(first, try writeLoad(server, 1.0))
        }
        try configuration.write(toFile: directory + "/lvs.cf", atomically: true, encoding: .utf8)
        try start(
            "director",
            "\(products)/h2e-director run --config \(directory)/lvs.cf --socket \(socket) --state-dir \(directory)/state")
        for server in servers.keys.sorted() {
            _ = try await waitForWeight(server) { $0 == self.baseWeight }
        }
        let read = await waitUntil(timeout: .seconds(10)) {
            guard let report = try? self.status() else { return false }
            return self.servers.keys.allSatisfy { report.server("web", $0)?.load == 1.0 }
        }
        XCTAssertTrue(read, "the director reads both agents: \(String(describing: try? status())) \(log("director"))")
        return first
    }

    // MARK: Tests

    func testWeightFollowsTheAgentsLoadBothWays() async throws {
        let first = try await startCluster()

        // web1 twenty times as loaded as web2: its weight goes down, web2's sample is unchanged and moves nothing.
        try await sleep(untilEpoch: first + 7)
        let high = try writeLoad("web1", 20)
        let lowered = try await waitForWeight("web1") { $0 < self.baseWeight }
        XCTAssertEqual(try kernelWeight("web2"), baseWeight)
        let report = try XCTUnwrap(try status()?.server("web", "web1"))
        XCTAssertEqual(report.load, 20)
        XCTAssertEqual(report.weight, lowered)
        XCTAssertTrue(report.reason.contains("load 20.00/cpu"), report.reason)

        // web1 idle: its weight comes back up.
        try await sleep(untilEpoch: high + 7)
        try writeLoad("web1", 0.05)
        let raised = try await waitForWeight("web1") { $0 > lowered! }
        XCTAssertLessThanOrEqual(raised!, 4 * baseWeight)
        XCTAssertEqual(try kernelWeight("web2"), baseWeight)
        // The director keeps fetching that same sample every second: it counts once, the weight stays.
        try await assertWeightStays("web1", raised, forIntervals: 3)
    }

    func testStoppedAgentHoldsTheWeightSurvivesGarbageThenReturns() async throws {
        let first = try await startCluster()
        try await sleep(untilEpoch: first + 7)
        try writeLoad("web1", 20)
        let held = try await waitForWeight("web1") { $0 < self.baseWeight }

        // The agent stops: the director reports it unreachable and keeps the last weight.
        let stopped = ContinuousClock.now
        try await stop("agent-web1")
        var report: StatusReport.Server?
        let noticed = await waitUntil(timeout: .seconds(10)) {
            report = try? self.status()?.server("web", "web1")
            return report?.loadError?.contains("agent unreachable") == true
        }
        XCTAssertTrue(noticed, "status: \(String(describing: report))")
        XCTAssertTrue(report?.reason.contains("held, no usable load") == true, String(describing: report))
        try await assertWeightStays("web1", held, forIntervals: 3)

        // A server answering garbage on the agent port: survived, reported, weight still held.
        let garbage = directory + "/garbage"
        try FileManager.default.createDirectory(atPath: garbage, withIntermediateDirectories: true)
        try "{\"server\": \"web1\", \"load\": <<<not json>>>\n".write(
            toFile: garbage + "/load.json", atomically: true, encoding: .utf8)
        try start("garbage", "busybox httpd -f -p 10.0.1.2:8181 -h \(garbage)")
        let malformed = await waitUntil(timeout: .seconds(10)) {
            report = try? self.status()?.server("web", "web1")
            return report?.loadError?.contains("unreadable load answer") == true
        }
        XCTAssertTrue(malformed, "status: \(String(describing: report)) \(log("garbage"))")
        XCTAssertTrue(report?.reason.contains("held, no usable load") == true, String(describing: report))
        try await assertWeightStays("web1", held, forIntervals: 3)
        XCTAssertEqual(kill(pids["director"]!, 0), 0, "the director still runs: \(log("director"))")
        XCTAssertEqual(try kernelWeight("web2"), baseWeight)

        // `load_hold_timeout` after the last usable reading (at most one interval before the stop), the weight
        // returns to the configured one, and says why.
        _ = try await waitForWeight("web1", timeout: .seconds(holdTimeout + 15)) { $0 == self.baseWeight }
        let returnedAfter = stopped.duration(to: .now)
        XCTAssertGreaterThanOrEqual(returnedAfter, .seconds(holdTimeout - 2), "held for the whole load_hold_timeout")
        report = try status()?.server("web", "web1")
        XCTAssertTrue(report?.reason.contains("configured, no usable load") == true, String(describing: report))
        XCTAssertEqual(report?.weight, baseWeight)
        print("web1: weight \(held.map(String.init) ?? "?") held, back to \(baseWeight) \(returnedAfter) after its agent stopped")
    }

    /// The kernel weight of `server` is `weight` at every look over `forIntervals` weight intervals (1 s each).
    func assertWeightStays(_ server: String, _ weight: Int?, forIntervals intervals: Int) async throws {
        let end = ContinuousClock.now + .seconds(intervals)
        while ContinuousClock.now < end {
            XCTAssertEqual(try kernelWeight(server), weight, log("director"))
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
