import Director
import Foundation
import TestSupport
import XCTest

/// The scale-out test group of scripts/lib/scaleout.sh (an ECMP router running BIRD, directors lb1...lbN each with
/// BIRD, real servers web1...webM by direct routing, a client behind the router, VIP 10.0.100.10), with an
/// `h2e-director run` (`scale_out = 1`) in each director namespace.
///
/// Every command sources scaleout.sh, so the tests and scripts/bench-scaleout share one topology.
struct ScaleOutGroup {
    static let vip = "10.0.100.10"

    let directory: String
    let directors: [String]
    let webs: Int
    let director: URL

    init(directors count: Int = 3, webs: Int = 3) throws {
        director = productsDirectory.appendingPathComponent("h2e-director")
        guard FileManager.default.isExecutableFile(atPath: director.path) else {
            throw unavailable("\(director.path) is not built: swift build --build-tests builds it")
        }
        for tool in ["ip", "busybox", "curl", "ipvsadm", "python3", "bird", "birdc"]
        where try shell("command -v \(tool)").status != 0 {
            throw unavailable("\(tool) is not installed (scripts/apt/scaleout.list, failover.list)")
        }
        directory = try mustRun("mktemp -d /tmp/h2e-scaleout.XXXXXX").trimmingCharacters(in: .whitespacesAndNewlines)
        directors = (1...count).map { "lb\($0)" }
        self.webs = webs
        let up = try shell(lib("scaleout_up \(count) \(webs)"))
        guard up.status == 0 else {
            tearDown()
            XCTFail("scaleout_up failed: \(up.output)")
            throw CancellationError()
        }
        // After scaleout_up, which empties the directory: each director's lvs.cf (scripts/lib/scaleout-h2e.sh).
        for name in directors {
            try mustRun(lib("scaleout_h2e_config \(name)"))
            let check = try shell("\(director.path) check-config --config \(directory)/\(name).cf")
            guard check.status == 0 else {
                tearDown()
                XCTFail("the test's lvs.cf is rejected: \(check.output)")
                throw CancellationError()
            }
        }
    }

    /// The command, run after sourcing scripts/lib/scaleout-h2e.sh (and so scaleout.sh) with this group's
    /// directory and this build's h2e-director.
    func lib(_ command: String) -> String {
        "export SCALEOUT_DIR=\(directory) H2E_DIRECTOR_BIN=\(director.path)\n"
            + ". \(repositoryRoot)/scripts/lib/scaleout-h2e.sh\n\(command)"
    }

    func tearDown() {
        _ = try? shell(lib("scaleout_down; rm -rf \(directory)"))
    }

    // MARK: Directors

    /// Starts `h2e-director run` in director namespace `name` (scripts/lib/scaleout-h2e.sh).
    func start(_ name: String) throws {
        try mustRun(lib("scaleout_h2e_start \(name)"))
    }

    /// kill -9 of `name`'s h2e-director only (its BIRD runs on): the kernel deletes its TUN device.
    func kill(_ name: String) throws {
        try mustRun(lib("scaleout_h2e_kill \(name)"))
    }

    /// `h2e-director ARGUMENTS --socket` of director `name`.
    func control(_ name: String, _ arguments: String) throws -> (status: Int32, output: String) {
        try shell("\(director.path) \(arguments) --socket \(directory)/\(name).sock")
    }

    func status(_ name: String) throws -> StatusReport? {
        let result = try control(name, "status --json")
        guard result.status == 0 else { return nil }
        return try? JSONDecoder().decode(StatusReport.self, from: Data(result.output.utf8))
    }

    func log(_ name: String) -> String {
        (try? String(contentsOfFile: "\(directory)/\(name).h2e.log", encoding: .utf8)) ?? "(no log)"
    }

    var logs: String {
        directors.map { "--- \($0).log:\n\(log($0).suffix(2000))" }.joined(separator: "\n")
            + "\n--- router: " + ((try? shell(lib("scaleout_bird router show protocols; ip -n router route")).output) ?? "")
    }

    // MARK: Observations

    /// The router's nexthops for the VIP (director addresses).
    func nexthops() -> [String] {
        ((try? shell(lib("scaleout_nexthops")))?.output ?? "").split(separator: "\n").map(String.init)
    }

    /// Waits until the router's route to the VIP has `count` nexthops.
    func waitForNexthops(_ count: Int, seconds: Int) async throws -> Bool {
        await (try? waitUntil(timeout: .seconds(seconds), interval: .milliseconds(100)) { nexthops().count == count })
            ?? false
    }
}
