/// Reads a ``CPUReading`` of a cgroup (``CgroupLocator``) or of the whole host (/proc/stat): a few small files,
/// blocking; run it off the event loop.
public struct CPUReader: Sendable {
    public enum Source: Sendable, Equatable {
        case cgroup(Cgroup)
        case host
    }

    public var source: Source
    /// The /proc directory ("/proc").
    public var procRoot: String

    public init(source: Source, procRoot: String = "/proc") {
        self.source = source
        self.procRoot = procRoot
    }

    /// `"cgroup"` or `"host"`, as the live figure names its source.
    public var sourceName: String {
        switch source {
        case .cgroup: "cgroup"
        case .host: "host"
        }
    }

    /// The cgroup measured (its path below the hierarchy's mount); `nil` for the host.
    public var cgroupPath: String? {
        guard case .cgroup(let cgroup) = source else { return nil }
        return cgroup.path
    }

    public func read() throws(AgentError) -> CPUReading {
        let host = try ProcSampler(root: procRoot, servicePorts: []).cpuTimes()
        let hostPressure = pressure(in: "\(procRoot)/pressure/cpu")
        guard case .cgroup(let cgroup) = source else {
            return CPUReading(
                usage: .host(busy: host.total - host.idle, total: host.total), onlineCPUs: host.cpuCount,
                pressure: hostPressure)
        }
        let usage = try cgroup.usageMicroseconds()
        // A quota set on an ancestor (a slice, the container) binds the cgroup too; the smallest one counts, and
        // throttling is that cgroup's.
        var binding: (quota: Double, cgroup: Cgroup)?
        for path in cgroup.lineage {
            let member = cgroup.at(path)
            if let quota = try member.quota(), quota < binding?.quota ?? .infinity { binding = (quota, member) }
        }
        return CPUReading(
            usage: .cgroup(microseconds: usage), onlineCPUs: host.cpuCount, quota: binding?.quota,
            cpuset: try cgroup.cpusetCount(), throttling: try binding?.cgroup.throttling(),
            pressure: cgroup.pressureFile.flatMap(pressure(in:)) ?? hostPressure)
    }

    /// PSI `some avg10` of `file`; `nil` when absent or unreadable (kernels without PSI, or booted with psi=0, whose
    /// files fail to read with EOPNOTSUPP).
    func pressure(in file: String) -> Double? {
        guard FileIO.exists(file), let text = try? FileIO.readText(file) else { return nil }
        return try? CgroupText.pressureSomeAvg10(text, file: file)
    }
}
