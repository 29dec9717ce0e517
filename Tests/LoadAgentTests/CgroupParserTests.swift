import XCTest
@testable import LoadAgent

final class CgroupParserTests: XCTestCase {
    func testMembership() throws {
        let v2 = try CgroupMembership.parse(CgroupFixtures.cgroupV2)
        XCTAssertEqual(v2.unified, "/web1/agent")
        XCTAssertEqual(v2.controllers, [:])
        let v1 = try CgroupMembership.parse(CgroupFixtures.cgroupV1)
        XCTAssertEqual(v1.controllers["cpu"], "/lxc/ct1")
        XCTAssertEqual(v1.controllers["cpuacct"], "/lxc/ct1")
        XCTAssertEqual(v1.controllers["name=systemd"], "/lxc/ct1/init.scope")
        XCTAssertEqual(v1.unified, "/lxc/ct1/init.scope")
        XCTAssertEqual(try CgroupMembership.parse("0::/a:b\n").unified, "/a:b", "a ':' in the path is kept")
        XCTAssertThrowsError(try CgroupMembership.parse("garbage\n"))
        XCTAssertThrowsError(try CgroupMembership.parse("1:cpu:relative\n"))
    }

    func testMountTable() throws {
        let hybrid = try MountTable.parse(CgroupFixtures.mountinfoHybrid)
        XCTAssertEqual(hybrid.mounts.count, 5, "the tmpfs is not a cgroup mount")
        XCTAssertEqual(hybrid.v1("cpu", showing: "/")?.point, "/sys/fs/cgroup/cpu")
        XCTAssertEqual(hybrid.v1("cpuacct", showing: "/")?.point, "/sys/fs/cgroup/cpuacct")
        XCTAssertEqual(hybrid.unified(showing: "/")?.point, "/sys/fs/cgroup/unified")
        let v1 = try MountTable.parse(CgroupFixtures.mountinfoV1)
        XCTAssertEqual(v1.v1("cpu", showing: "/x")?.point, "/sys/fs/cgroup/cpu,cpuacct")
        XCTAssertEqual(v1.v1("cpuacct", showing: "/x")?.point, "/sys/fs/cgroup/cpu,cpuacct")
        XCTAssertNil(v1.unified(showing: "/"))
        XCTAssertEqual(try MountTable.parse(CgroupFixtures.mountinfoV2).unified(showing: "/web1")?.point, "/sys/fs/cgroup")

        // A container's bind mount of its own subtree, and an escaped space.
        let bound = try MountTable.parse("50 1 0:26 /lxc/ct1 /sys/fs/cgroup\\040x rw - cgroup2 cgroup2 rw\n")
        let mount = try XCTUnwrap(bound.unified(showing: "/lxc/ct1/sub"))
        XCTAssertEqual(mount.point, "/sys/fs/cgroup x")
        XCTAssertEqual(mount.relative("/lxc/ct1/sub"), "/sub")
        XCTAssertEqual(mount.relative("/lxc/ct1"), "/")
        XCTAssertNil(mount.relative("/lxc/ct10"), "outside the mounted subtree")
        XCTAssertNil(bound.unified(showing: "/other"))
        XCTAssertThrowsError(try MountTable.parse("1 2 3\n"))
    }

    func testCPUStat() throws {
        let v2 = try CgroupText.keyed(CgroupFixtures.cpuStatV2, file: "cpu.stat")
        XCTAssertEqual(v2["usage_usec"], 383_837_709)
        XCTAssertEqual(v2["throttled_usec"], 4_500_000)
        XCTAssertEqual(try CgroupText.keyed(CgroupFixtures.cpuStatV1, file: "cpu.stat")["throttled_time"], 7_000_000_000)
        XCTAssertThrowsError(try CgroupText.keyed("usage_usec x\n", file: "cpu.stat"))
    }

    func testQuota() throws {
        XCTAssertNil(try CgroupText.quota(cpuMax: "max 100000\n"))
        XCTAssertEqual(try XCTUnwrap(CgroupText.quota(cpuMax: "6000 100000\n")), 0.06, accuracy: 1e-12)
        XCTAssertEqual(try CgroupText.quota(cpuMax: "250000 100000\n"), 2.5)
        XCTAssertThrowsError(try CgroupText.quota(cpuMax: "6000\n"))
        XCTAssertThrowsError(try CgroupText.quota(cpuMax: "lots 100000\n"))
        XCTAssertNil(try CgroupText.quota(cfsQuota: "-1\n", cfsPeriod: "100000\n"))
        XCTAssertEqual(try CgroupText.quota(cfsQuota: "50000\n", cfsPeriod: "100000\n"), 0.5)
        XCTAssertThrowsError(try CgroupText.quota(cfsQuota: "x\n", cfsPeriod: "100000\n"))
        XCTAssertThrowsError(try CgroupText.quota(cfsQuota: "5\n", cfsPeriod: "0\n"))
    }

    func testCPUList() throws {
        XCTAssertEqual(try CgroupText.cpuCount(list: "0-3,6\n", file: "f"), 5)
        XCTAssertEqual(try CgroupText.cpuCount(list: "0\n", file: "f"), 1)
        XCTAssertEqual(try CgroupText.cpuCount(list: "0-1,4-7,9\n", file: "f"), 7)
        XCTAssertNil(try CgroupText.cpuCount(list: "\n", file: "f"), "an empty cpuset is unconfigured")
        XCTAssertThrowsError(try CgroupText.cpuCount(list: "3-1\n", file: "f"))
        XCTAssertThrowsError(try CgroupText.cpuCount(list: "a-b\n", file: "f"))
    }

    func testPressure() throws {
        XCTAssertEqual(try CgroupText.pressureSomeAvg10(CgroupFixtures.pressure, file: "cpu.pressure"), 73.17)
        XCTAssertThrowsError(try CgroupText.pressureSomeAvg10("full avg10=1.00\n", file: "cpu.pressure"))
    }
}
