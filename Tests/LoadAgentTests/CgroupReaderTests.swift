import XCTest
@testable import LoadAgent

/// Locating and reading cgroups in fake /proc and /sys trees under a temp dir.
final class CgroupReaderTests: XCTestCase {
    var root: TemporaryDirectory!

    override func setUp() async throws {
        root = try TemporaryDirectory()
        try root.write("proc/stat", ProcFixtures.stat)  // two CPUs online
    }

    /// Writes each file (path below the root: its text).
    func write(_ files: KeyValuePairs<String, String>) throws {
        for (path, text) in files { try root.write(path, text) }
    }

    var locator: CgroupLocator { CgroupLocator(procRoot: "\(root.path)/proc", fileRoot: root.path) }

    func reader(_ cgroup: Cgroup?) -> CPUReader {
        CPUReader(source: cgroup.map(CPUReader.Source.cgroup) ?? .host, procRoot: "\(root.path)/proc")
    }

    /// A v2 container: /web1 has a 6 % quota, the agent runs in /web1/agent without one.
    func writeV2(usage: Int = 5_000_000) throws {
        let fs = "sys/fs/cgroup"
        try write([
            "proc/self/cgroup": CgroupFixtures.cgroupV2,
            "proc/self/mountinfo": CgroupFixtures.mountinfoV2,
            "\(fs)/cpu.stat": "usage_usec 900000000\n",
            "\(fs)/cpuset.cpus.effective": "0-1\n",
            "\(fs)/web1/cpu.max": "6000 100000\n",
            "\(fs)/web1/cpu.stat": CgroupFixtures.cpuStatV2.replacingOccurrences(of: "383837709", with: "\(usage)"),
            "\(fs)/web1/cpuset.cpus.effective": "0-1\n",
            "\(fs)/web1/cpu.pressure": CgroupFixtures.pressure,
            "\(fs)/web1/agent/cpu.max": "max 100000\n",
            "\(fs)/web1/agent/cpu.stat": "usage_usec 1000\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
            "\(fs)/web1/agent/cpuset.cpus.effective": "0-1\n",
            "\(fs)/web2/cpu.max": "max 100000\n",
            "\(fs)/web2/cpu.stat": "usage_usec 42\n",
            "\(fs)/web2/cpuset.cpus.effective": "1\n",
        ])
    }

    func testV2OwnCgroupIsTheNearestWithAQuota() throws {
        try writeV2()
        let cgroup = try XCTUnwrap(try locator.locate(requested: nil))
        XCTAssertEqual(cgroup.version, .v2)
        XCTAssertEqual(cgroup.path, "/web1", "the agent's own unit has no limit; its container's has")
        let reading = try reader(cgroup).read()
        XCTAssertEqual(reading.usage, .cgroup(microseconds: 5_000_000))
        XCTAssertEqual(reading.onlineCPUs, 2)
        XCTAssertEqual(try XCTUnwrap(reading.quota), 0.06, accuracy: 1e-12)
        XCTAssertEqual(reading.cpuset, 2)
        XCTAssertEqual(reading.capacity, 0.06, accuracy: 1e-12)
        XCTAssertEqual(
            reading.throttling,
            CPUReading.Throttling(cgroup: "/web1", periods: 1200, throttledPeriods: 300, throttledMicroseconds: 4_500_000))
        XCTAssertEqual(reading.pressure, 73.17, "the cgroup's own PSI")
    }

    func testV2QuotaOfAnAncestorBindsARequestedCgroup() throws {
        try writeV2()
        let agent = try XCTUnwrap(try locator.locate(requested: "web1/agent"))
        XCTAssertEqual(agent.path, "/web1/agent")
        let reading = try reader(agent).read()
        XCTAssertEqual(reading.usage, .cgroup(microseconds: 1000))
        XCTAssertEqual(try XCTUnwrap(reading.quota), 0.06, accuracy: 1e-12, "the parent's quota binds")
        XCTAssertEqual(reading.throttling?.cgroup, "/web1", "throttling of the cgroup whose quota binds")
        XCTAssertNil(reading.pressure, "no cpu.pressure here and no host PSI in the fixture")
    }

    func testV2CpusetLimitAndPathForms() throws {
        try writeV2()
        for requested in ["web2", "/web2", "/sys/fs/cgroup/web2", "/sys/fs/cgroup/web2/"] {
            XCTAssertEqual(try locator.locate(requested: requested)?.path, "/web2", requested)
        }
        let reading = try reader(try locator.locate(requested: "web2")).read()
        XCTAssertNil(reading.quota)
        XCTAssertNil(reading.throttling, "no quota: no throttling")
        XCTAssertEqual(reading.cpuset, 1)
        XCTAssertEqual(reading.capacity, 1)
        XCTAssertEqual(try locator.locate(requested: "/")?.path, "/")
        XCTAssertEqual(try reader(try locator.locate(requested: "/")).read().capacity, 2, "the root: online CPUs")
    }

    func testARequestedCgroupThatCannotBeReadSaysWhatToPass() throws {
        try writeV2()
        for requested in ["system.slice/apache2.service", "web1/../etc"] {
            XCTAssertThrowsError(try locator.locate(requested: requested)) { error in
                guard case .invalidArgument(let message) = error as? AgentError else { return XCTFail("\(error)") }
                XCTAssertTrue(message.contains("--cgroup") || message.contains("cgroup"), message)
            }
        }
        XCTAssertThrowsError(try locator.locate(requested: "nope")) { error in
            XCTAssertTrue("\(error)".contains("system.slice/apache2.service"), "\(error)")
        }
    }

    func testWithoutALimitTheRootOfTheHierarchy() throws {
        try writeV2()
        try root.write("sys/fs/cgroup/web1/cpu.max", "max 100000\n")
        let cgroup = try XCTUnwrap(try locator.locate(requested: nil))
        XCTAssertEqual(cgroup.path, "/", "no enclosing limit: the whole machine or container")
        XCTAssertEqual(try reader(cgroup).read().usage, .cgroup(microseconds: 900_000_000))
    }

    /// An LXC container on v1: cpu and cpuacct in one mount, the quota on the container, PSI from the host.
    func testV1CombinedMount() throws {
        let dir = "sys/fs/cgroup/cpu,cpuacct/lxc/ct1"
        try write([
            "proc/self/cgroup": CgroupFixtures.cgroupV1,
            "proc/self/mountinfo": CgroupFixtures.mountinfoV1,
            "proc/pressure/cpu": CgroupFixtures.pressure,
            "\(dir)/cpuacct.usage": "123456789000\n",
            "\(dir)/cpu.cfs_quota_us": "150000\n",
            "\(dir)/cpu.cfs_period_us": "100000\n",
            "\(dir)/cpu.stat": CgroupFixtures.cpuStatV1,
            "sys/fs/cgroup/cpu,cpuacct/lxc/cpu.cfs_quota_us": "-1\n",
            "sys/fs/cgroup/cpu,cpuacct/lxc/cpu.cfs_period_us": "100000\n",
            "sys/fs/cgroup/cpuset/lxc/ct1/cpuset.cpus": "0-1\n",
        ])
        let cgroup = try XCTUnwrap(try locator.locate(requested: nil))
        XCTAssertEqual(cgroup.version, .v1)
        XCTAssertEqual(cgroup.path, "/lxc/ct1")
        let reading = try reader(cgroup).read()
        XCTAssertEqual(reading.usage, .cgroup(microseconds: 123_456_789))
        XCTAssertEqual(reading.quota, 1.5)
        XCTAssertEqual(reading.cpuset, 2)
        XCTAssertEqual(reading.capacity, 1.5)
        XCTAssertEqual(
            reading.throttling,
            CPUReading.Throttling(cgroup: "/lxc/ct1", periods: 1000, throttledPeriods: 250, throttledMicroseconds: 7_000_000))
        XCTAssertEqual(reading.pressure, 73.17, "v1 has no per-cgroup PSI: the host's")
    }

    /// A hybrid host (this build machine's layout): every v1 controller apart, an empty unified hierarchy beside.
    func testHybridUsesTheV1Controllers() throws {
        try write([
            "proc/self/cgroup": CgroupFixtures.cgroupHybrid,
            "proc/self/mountinfo": CgroupFixtures.mountinfoHybrid,
            "sys/fs/cgroup/cpuacct/cpuacct.usage": "5000\n",
            "sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n",
            "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
            "sys/fs/cgroup/cpu/web/cpu.cfs_quota_us": "20000\n",
            "sys/fs/cgroup/cpu/web/cpu.cfs_period_us": "100000\n",
            "sys/fs/cgroup/cpu/web/cpu.stat": CgroupFixtures.cpuStatV1,
            "sys/fs/cgroup/cpuacct/web/cpuacct.usage": "7000\n",
            "sys/fs/cgroup/unified/cpu.stat": "usage_usec 1\n",
        ])
        let own = try XCTUnwrap(try locator.locate(requested: nil))
        XCTAssertEqual(own.version, .v1)
        XCTAssertEqual(own.path, "/")
        XCTAssertEqual(own.usageMount, "\(root.path)/sys/fs/cgroup/cpuacct")
        XCTAssertEqual(own.cpuMount, "\(root.path)/sys/fs/cgroup/cpu")
        XCTAssertEqual(try reader(own).read().usage, .cgroup(microseconds: 5))
        let web = try XCTUnwrap(try locator.locate(requested: "/sys/fs/cgroup/cpuacct/web"))
        XCTAssertEqual(web.path, "/web")
        XCTAssertEqual(try locator.locate(requested: "/sys/fs/cgroup/cpu/web")?.path, "/web", "any of its mounts")
        let reading = try reader(web).read()
        XCTAssertEqual(reading.usage, .cgroup(microseconds: 7))
        XCTAssertEqual(reading.quota, 0.2)
        XCTAssertEqual(reading.throttling?.throttledPeriods, 250)
    }

    func testWithoutCgroupFilesTheHost() throws {
        XCTAssertNil(try locator.locate(requested: nil))
        XCTAssertThrowsError(try locator.locate(requested: "web1"))
        try root.write("proc/pressure/cpu", CgroupFixtures.pressure)
        let host = try reader(nil).read()
        XCTAssertEqual(host.usage, .host(busy: 1000 + 10 + 300 + 5 + 15, total: 9530))
        XCTAssertEqual(host.capacity, 2)
        XCTAssertEqual(host.pressure, 73.17)
        XCTAssertNil(host.throttling)
    }
}
