import Foundation
import TestSupport
import XCTest

/// scripts/bench-balance in CI size: does load feedback move real traffic on the real kernel? The cluster is
/// scripts/lib/balance.sh's (the same C server and client, the same topology): a director with lblc over a fwmark
/// of 60 site IPs, direct routing, three webservers whose cgroups have `cpu.max` 6 % / 12 % / 24 % (capacities
/// 1:2:4), each running burn-httpd (a fixed CPU cost per request) and h2e-agent in its cgroup, and an open-loop
/// client with Poisson arrivals at 80 % of the measured capacity.
///
/// One run of each arm on the same arrival sequence: with `load_monitor = none` (static weights 32) and with
/// `load_monitor = h2e`; 10 s into each, web1's quota is doubled (6 % to 12 %). Asserted, within the h2e run:
/// - before the step, the 1x server's kernel weight (`ipvsadm -Ln`) is below the 4x server's (the agents state
///   their cgroups' capacities and the director starts the weights from them, then follows the load);
/// - after it, web1's weight rises above where it was: that is the load loop alone (the start from capacity is
///   taken once), answering real CPU use against the new quota;
/// - web1's agent counts the client's requests in flight (`live.in_flight` above 0).
/// The spread of the servers' utilisation of their quotas (max/mean, from cgroup cpu.stat after the step, against
/// the quota in force) is printed for both arms, not asserted: smaller with h2e is the usual outcome but not a
/// reliable one (below).
///
/// The binaries are those of `H2E_DEMO_BIN` when set (scripts/test sets it to the release build: the whole cluster
/// shares one emulated CPU), else this bundle's. Under 3 minutes (two arms of 30 s, each on a fresh cluster).
final class BalanceKernelTests: XCTestCase {
    let root = repositoryRoot
    var directory = ""
    /// Seconds each arm's client runs; web1's quota doubles `stepAt` s into it, and utilisation is compared from
    /// then to its end.
    let duration = 30
    let stepAt = 10

    override func setUp() async throws {
        try requireIPVSKernel()
        for tool in ["gcc", "iptables-legacy", "nsenter", "ipvsadm", "curl", "rrdtool"]
        where try shell("command -v \(tool)").status != 0 {
            throw unavailable("\(tool) is not installed (scripts/apt/balance.list)")
        }
        for product in ["h2e-director", "h2e-agent"] where !FileManager.default.isExecutableFile(atPath: binaries + "/" + product) {
            throw unavailable("\(binaries)/\(product) is not built (swift build [-c release] --product \(product))")
        }
        directory = "/tmp/h2e-balance-test-\(String(UUID().uuidString.prefix(8)).lowercased())"
        try mustRun("mkdir -p \(directory)/bin")
    }

    override func tearDown() async throws {
        _ = try? shell(balance("balance_down"))
        _ = try? shell("rm -rf \(directory)")
    }

    var binaries: String { ProcessInfo.processInfo.environment["H2E_DEMO_BIN"] ?? productsDirectory.path }

    /// A shell command with scripts/lib/topology.sh and scripts/lib/balance.sh loaded. The health checks time out
    /// after 3 s, not bench-balance's 10 (lvs.cf's default): with 10 this test took 267 s instead of 160-190 s.
    func balance(_ command: String) -> String {
        "cd '\(root)' && . scripts/lib/topology.sh && . scripts/lib/balance.sh && H2E_BIN='\(binaries)'"
            + " BALANCE_BIN='\(directory)/bin' BALANCE_DIR='\(directory)/cluster' BALANCE_CALIBRATE_SECONDS=5"
            + " BALANCE_CHECK_TIMEOUT=3 && \(command)"
    }

    /// The kernel weights of web1..3, nil for a server not in the table.
    func weights() throws -> [String: Int] {
        try pairs(mustRun(balance("balance_weights")))
    }

    func usage() throws -> [String: Int] {
        try pairs(mustRun(balance("balance_usage")))
    }

    func pairs(_ text: String) -> [String: Int] {
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        var result: [String: Int] = [:]
        for i in stride(from: 0, to: words.count - 1, by: 2) { result[words[i]] = Int(words[i + 1]) }
        return result
    }

    struct Arm {
        var utilisation: [String: Double]
        var maxOverMean: Double
        var summary: String
        var weights: [String: Int]
    }

    /// One arm: a fresh cluster with `monitor`, the client at `rate` for `duration` s, scripts/lib/balance/balance.py
    /// sampling the cgroups every second. `beforeStep` is called once the client runs, web1's quota is doubled
    /// `stepAt` s after that, then `afterStep` is called. Utilisation of each quota is taken from the samples
    /// between `stepAt` s after the client's start and its end.
    func run(
        _ monitor: String, iterations: Int, rate: Double, beforeStep: () async throws -> Void = {},
        afterStep: () async throws -> Void = {}
    ) async throws -> Arm {
        let up = "\(directory)/up-\(monitor).log"
        try mustRun(balance("balance_up \(iterations) \(monitor) lblc > \(up) 2>&1 || { cat \(up); exit 1; }"))
        let summary = "\(directory)/client-\(monitor).summary", samples = "\(directory)/samples-\(monitor)"
        try mustRun(
            balance("{ python3 scripts/lib/balance/balance.py sample --out \(samples) --stop \(samples).stop & }"
                + " && { balance_client \(rate) \(duration) 1 \(directory)/client-\(monitor).log > \(summary).part 2>&1"
                + " && mv \(summary).part \(summary); } &"))
        let step = ContinuousClock.now + .seconds(stepAt)
        try await beforeStep()
        // The step is part of the schedule, at the same time into both arms (as in bench-balance).
        try await Task.sleep(until: step)
        try mustRun(balance("balance_quota web1 12"))
        try await afterStep()
        let done = await waitUntil(timeout: .seconds(duration + 30), interval: .milliseconds(200)) {
            FileManager.default.fileExists(atPath: summary)
        }
        try mustRun("touch \(samples).stop")
        let text = (try? String(contentsOfFile: summary, encoding: .utf8)) ?? ""
        XCTAssertTrue(done, "the client did not finish: \((try? String(contentsOfFile: summary + ".part", encoding: .utf8)) ?? "")")
        let start = try XCTUnwrap(
            text.split(whereSeparator: \.isWhitespace).split(separator: "start_epoch").last?.first.flatMap { Double($0) },
            "no start_epoch in the client's summary: \(text)")
        let utilisation = try self.utilisation(samples, from: start + Double(stepAt), to: start + Double(duration))
        let mean = utilisation.values.reduce(0, +) / Double(max(utilisation.count, 1))
        let arm = Arm(
            utilisation: utilisation, maxOverMean: (utilisation.values.max() ?? 0) / max(mean, 1e-9), summary: text,
            weights: try weights())
        try mustRun(balance("balance_down"))
        return arm
    }

    /// Each server's CPU used between the first and last sample within [from, to] (epoch seconds), over the quota
    /// in force integrated over that time (balance.py's `utilisation`).
    func utilisation(_ samples: String, from: Double, to: Double) throws -> [String: Double] {
        struct Cgroup: Decodable { var usage: Double?; var quota: Double? }
        struct Sample: Decodable { var t: Double; var web1: Cgroup; var web2: Cgroup; var web3: Cgroup }
        let rows = try String(contentsOfFile: samples, encoding: .utf8).split(separator: "\n")
            .map { try JSONDecoder().decode(Sample.self, from: Data($0.utf8)) }.filter { $0.t >= from && $0.t <= to }
        guard let first = rows.first, let last = rows.last, last.t - first.t > Double(duration - stepAt) / 2 else {
            XCTFail("too few samples between \(from) and \(to) in \(samples)")
            return [:]
        }
        var result: [String: Double] = [:]
        for (name, cgroup) in [("web1", \Sample.web1), ("web2", \Sample.web2), ("web3", \Sample.web3)] {
            var used = 0.0, capacity = 0.0
            for (a, b) in zip(rows, rows.dropFirst()) {
                guard let u0 = a[keyPath: cgroup].usage, let u1 = b[keyPath: cgroup].usage,
                    let quota = a[keyPath: cgroup].quota
                else { continue }
                used += (u1 - u0) / 1e6
                capacity += (b.t - a.t) * quota
            }
            result[name] = capacity > 0 ? used / capacity : 0
        }
        return result
    }

    func testH2EStartsFromCapacityAndFollowsRealLoad() async throws {
        let calibration = try mustRun(balance("balance_build \(directory)/bin && balance_calibrate 5"))
        let numbers = calibration.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard numbers.count == 3 else { return XCTFail("balance_calibrate: \(calibration)") }
        let (iterations, cost) = (numbers[0], numbers[1])
        let rate = 0.8 * (0.06 + 0.12 + 0.24) / (Double(cost) / 1e6)
        print("balance: \(iterations) iterations, \(cost) us of CPU per request saturated, \(numbers[2]) us at light load; client at \(String(format: "%.1f", rate))/s (80 %)")

        let fixed = try await run("none", iterations: iterations, rate: rate)

        var seen: [String: Int] = [:]
        var beforeStep = 0
        let h2e = try await run(
            "h2e", iterations: iterations, rate: rate,
            beforeStep: {
                let fell = await waitUntil(timeout: .seconds(stepAt - 1), interval: .milliseconds(500)) {
                    seen = (try? self.weights()) ?? [:]
                    guard let small = seen["web1"], let large = seen["web3"] else { return false }
                    return small < large
                }
                XCTAssertTrue(fell, "web1's weight was not below web3's before the step: \(seen); director: \(self.directorLog())")
            },
            afterStep: {
                // Read at the step: the quota has just doubled, the agent's 10 s window does not show it yet.
                beforeStep = try XCTUnwrap(try self.weights()["web1"], "web1 is not in the table at the step")
                let rose = await waitUntil(timeout: .seconds(duration - stepAt - 2), interval: .milliseconds(500)) {
                    seen = (try? self.weights()) ?? [:]
                    return (seen["web1"] ?? 0) > beforeStep
                }
                XCTAssertTrue(
                    rose, "web1's quota doubled but its weight did not rise above \(beforeStep): \(seen); director: \(self.directorLog())")
                // The busy server's agent counts the client's requests in flight: direct routing, so the
                // connections' local addresses are the site IPs, on port 80 (`live.in_flight`,
                // load_monitor = h2e-in-flight).
                var answer = ""
                let counted = await waitUntil(timeout: .seconds(10), interval: .milliseconds(500)) {
                    // A busy agent may miss a poll: shell, not mustRun, so one miss is not a failure.
                    answer = (try? shell(self.balance("_balance_in client curl -sf -m 2 http://10.0.0.21:8181/load.json")))?.output ?? ""
                    let object = try? JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any]
                    return ((object?["live"] as? [String: Any])?["in_flight"] as? Double ?? 0) > 0
                }
                XCTAssertTrue(counted, "web1's agent never counted a request in flight: \(answer)")
            })
        print("balance h2e: web1's weight \(beforeStep) at the step, \(seen["web1"].map { "\($0)" } ?? "-") after")
        for (name, arm) in [("static", fixed), ("h2e", h2e)] {
            let util = ["web1", "web2", "web3"].map { String(format: "%.2f", arm.utilisation[$0] ?? 0) }.joined(separator: " ")
            print("balance \(name): utilisation \(util), max/mean \(String(format: "%.2f", arm.maxOverMean)), weights at the end \(arm.weights)")
            print(arm.summary)
        }
        // Not asserted: max/mean with h2e below static's. Over the 20 s after web1's quota doubles, three runs of
        // this test gave static 1.22 / h2e 1.09, 1.21 / 1.16 and 1.34 / 1.35: in 20 s of lblc the spread is mostly
        // where the sites happened to be placed, and the direction does not hold reliably. bench-balance measures it
        // over 90 s arms (docs/weights.md, "Starting from capacity"); the figures are printed above.
    }

    /// The end of the running cluster's director log.
    func directorLog() -> String {
        let text = (try? String(contentsOfFile: "\(directory)/cluster/director.log", encoding: .utf8)) ?? ""
        return String(text.suffix(3000))
    }

}
