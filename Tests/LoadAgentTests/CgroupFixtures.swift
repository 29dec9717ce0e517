/// Text of real cgroup files (trimmed): v2 (unified), v1 with cpu and cpuacct in one mount, and a hybrid host with
/// every v1 controller mounted apart beside an empty unified hierarchy (this build machine).
enum CgroupFixtures {
    static let cgroupV2 = "0::/web1/agent\n"

    static let mountinfoV2 = """
        22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
        25 22 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
        31 22 0:27 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw

        """

    static let cgroupV1 = """
        12:pids:/lxc/ct1
        4:cpu,cpuacct:/lxc/ct1
        3:cpuset:/lxc/ct1
        1:name=systemd:/lxc/ct1/init.scope
        0::/lxc/ct1/init.scope

        """

    static let mountinfoV1 = """
        22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct
        34 31 0:31 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,cpuset
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd

        """

    static let cgroupHybrid = """
        9:name=systemd:/
        8:pids:/
        4:memory:/process_api/d621ccfd567a03c283e4eb18911b4bfe
        3:cpuset:/
        2:cpuacct:/
        1:cpu:/
        0::/

        """

    static let mountinfoHybrid = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw

        """

    static let cpuStatV2 = """
        usage_usec 383837709
        user_usec 317200742
        system_usec 66636966
        nr_periods 1200
        nr_throttled 300
        throttled_usec 4500000
        nr_bursts 0
        burst_usec 0

        """

    static let cpuStatV1 = """
        nr_periods 1000
        nr_throttled 250
        throttled_time 7000000000
        nr_bursts 0
        burst_time 0

        """

    static let pressure = """
        some avg10=73.17 avg60=49.82 avg300=18.46 total=73005509
        full avg10=0.00 avg60=0.00 avg300=0.00 total=0

        """
}
