/// Reads a ``CPUReading`` of a cgroup (``CgroupLocator``) or of the whole host (/proc/stat), and the connections in
/// flight to the service ports (/proc/net/tcp and tcp6 of the agent's network namespace): a few small files (the
/// TCP tables grow with the connections, about 150 bytes each), blocking; run it off the event loop.
public struct CPUReader: Sendable {
    public enum Source: Sendable, Equatable {
        case cgroup(Cgroup)
        case host
    }

    public var source: Source
    /// The /proc directory ("/proc").
    public var procRoot: String
    /// Local ports of the webserver whose established connections are its requests in flight; empty: not counted.
    public var servicePorts: Set<UInt16>

    public init(source: Source, procRoot: String = "/proc", servicePorts: Set<UInt16> = []) {
        self.source = source
        self.procRoot = procRoot
        self.servicePorts = servicePorts
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
        let proc = ProcSampler(root: procRoot, servicePorts: servicePorts)
        let host = try proc.cpuTimes()
        let hostPressure = pressure(in: "\(procRoot)/pressure/cpu")
        // A table that cannot be read leaves the count unknown, not the CPU figure.
        let inFlight = servicePorts.isEmpty ? nil : try? proc.tcpEstablished()
        guard case .cgroup(let cgroup) = source else {
            return CPUReading(
                usage: .host(busy: host.total - host.idle, total: host.total), onlineCPUs: host.cpuCount,
                pressure: hostPressure, inFlight: inFlight)
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
            pressure: cgroup.pressureFile.flatMap(pressure(in:)) ?? hostPressure, inFlight: inFlight)
    }

    /// PSI `some avg10` of `file`; `nil` when absent or unreadable (kernels without PSI, or booted with psi=0, whose
    /// files fail to read with EOPNOTSUPP).
    func pressure(in file: String) -> Double? {
        guard FileIO.exists(file), let text = try? FileIO.readText(file) else { return nil }
        return try? CgroupText.pressureSomeAvg10(text, file: file)
    }
}
