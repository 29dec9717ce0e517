import Foundation
import TestSupport
import XCTest

/// h2e-agent's live figure on a real cgroup v2 hierarchy with a CPU quota, in the user-mode-linux kernel: this build
/// machine is a hybrid host whose cpu controller is bound to v1 (LiveServeTests test that), so v2 is tested here.
final class CgroupKernelTests: XCTestCase {
    let root = "/sys/fs/cgroup"
    let cgroupName = "h2e-web"
    var started: [String: pid_t] = [:]

    override func tearDown() async throws {
        for (_, pid) in started { kill(pid, SIGKILL) }
        _ = try? shell("sleep 0.3; rmdir \(root)/\(cgroupName) 2>/dev/null")
        started = [:]
    }

    /// Runs `command` in the background (in the cgroup when `inCgroup`), logging to /tmp/<label>.log.
    func start(_ label: String, inCgroup: Bool, _ command: String) throws {
        let enter = inCgroup ? "echo $$ > \(root)/\(cgroupName)/cgroup.procs; " : ""
        let pid = try mustRun("bash -c '\(enter)exec \(command)' >/tmp/\(label).log 2>&1 & echo $!")
        started[label] = Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The "live" member of the agent's /load.json on `port`, nil while it is null or unanswered.
    func live(port: Int) throws -> [String: Any]? {
        let body = try shell("curl -s --max-time 5 http://127.0.0.1:\(port)/load.json").output
        let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return object?["live"] as? [String: Any]
    }

    func testQuotaIsTheCapacityAndThrottlingIsSeenWithAndWithoutCgroupOption() async throws {
        try requireIPVSKernel()
        _ = try cgroupV2CPURoot()
        try mustRun("mkdir -p \(root)/\(cgroupName); echo '20000 100000' > \(root)/\(cgroupName)/cpu.max")
        let state = NSTemporaryDirectory() + "h2e-cgroup-\(getpid())"
        try mustRun("mkdir -p \(state) && \(productsDirectory.path)/h2e-agent sample --dir \(state)")
        try start("burner", inCgroup: true, "sh -c \"while :; do :; done\"")
        let agent = "\(productsDirectory.path)/h2e-agent serve --dir \(state) --server-id web"
        // One agent names the cgroup; the other runs in it and finds it as its own (the nearest with a quota).
        try start("agent-named", inCgroup: false, "\(agent) --listen 127.0.0.1:18181 --cgroup \(cgroupName)")
        try start("agent-inside", inCgroup: true, "\(agent) --listen 127.0.0.1:18182")
        for port in [18181, 18182] {
            var live: [String: Any] = [:]
            let seen = try await waitUntil(timeout: .seconds(30), interval: .milliseconds(500)) {
                live = try self.live(port: port) ?? [:]
                return (live["throttled"] as? Double ?? 0) > 0 && (live["window"] as? Double ?? 0) >= 2
            }
            let log = (try? String(contentsOfFile: "/tmp/agent-\(port == 18181 ? "named" : "inside").log", encoding: .utf8)) ?? ""
            XCTAssertTrue(seen, "port \(port): \(live) \(log)")
            XCTAssertEqual(live["source"] as? String, "cgroup", "port \(port)")
            XCTAssertEqual(live["cgroup"] as? String, "/\(cgroupName)", "port \(port)")
            XCTAssertEqual(live["capacity"] as? Double ?? 0, 0.2, accuracy: 1e-9, "port \(port)")
            XCTAssertGreaterThan(live["usage"] as? Double ?? 0, 0, "port \(port)")
            XCTAssertGreaterThan(live["throttled_usec"] as? Int ?? 0, 0, "port \(port)")
            XCTAssertGreaterThan(live["figure"] as? Double ?? 0, live["throttled"] as? Double ?? 0, "port \(port)")
            print("port \(port): live \(live)")
        }
    }
}
