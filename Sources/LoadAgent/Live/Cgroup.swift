/// The cgroup whose CPU the live load figure measures: where its files are and how to read its usage, quota,
/// cpuset and throttling, in either layout.
///
/// - v2 (unified): `cpu.stat` (`usage_usec`, `nr_periods`, `nr_throttled`, `throttled_usec`), `cpu.max`,
///   `cpuset.cpus.effective`, `cpu.pressure`, all in one directory.
/// - v1: usage in the cpuacct hierarchy (`cpuacct.usage`, ns), quota and throttling in the cpu hierarchy
///   (`cpu.cfs_quota_us`, `cpu.cfs_period_us`, `cpu.stat` with `throttled_time` in ns), the cpuset in its own
///   (`cpuset.effective_cpus` or `cpuset.cpus`). cpu and cpuacct may be one mount ("cpu,cpuacct") or two.
///
/// Every path here is already under the file root the cgroup was located in, so tests can point it at a temp dir.
public struct Cgroup: Sendable, Equatable {
    public enum Version: String, Sendable, Equatable {
        case v1, v2
    }

    public var version: Version
    /// The cgroup measured, below its hierarchy's mount: "/system.slice/apache2.service", "/" for the root.
    public var path: String
    /// Mount point of the usage counters: the unified hierarchy (v2), the cpuacct hierarchy (v1).
    public var usageMount: String
    /// Mount point of quota and throttling: the same as ``usageMount`` in v2; the cpu hierarchy in v1 (`nil` when
    /// it is not mounted: no quota known).
    public var cpuMount: String?
    /// Mount point of the cpuset: the same as ``usageMount`` in v2; the cpuset hierarchy in v1 (`nil`: none).
    public var cpusetMount: String?

    public init(version: Version, path: String, usageMount: String, cpuMount: String?, cpusetMount: String?) {
        self.version = version
        self.path = path
        self.usageMount = usageMount
        self.cpuMount = cpuMount
        self.cpusetMount = cpusetMount
    }

    /// This cgroup at another path of the same hierarchies.
    func at(_ path: String) -> Cgroup {
        var other = self
        other.path = path
        return other
    }

    /// The directory of the cgroup at `path` under `mount`.
    static func directory(_ mount: String, _ path: String) -> String { path == "/" ? mount : mount + path }

    /// The cgroup and its ancestors up to the root of the mounted hierarchy, nearest first.
    var lineage: [String] {
        var paths = [path]
        var current = path
        while current != "/", let slash = current.lastIndex(of: "/") {
            current = slash == current.startIndex ? "/" : String(current[..<slash])
            paths.append(current)
        }
        return paths
    }

    // MARK: reading

    /// Cumulative CPU time used by the cgroup and its descendants, microseconds.
    public func usageMicroseconds() throws(AgentError) -> UInt64 {
        let dir = Self.directory(usageMount, path)
        switch version {
        case .v2:
            let file = "\(dir)/cpu.stat"
            guard let usage = try Self.keyed(file)["usage_usec"] else {
                throw .parse(ProcParseError(file: file, reason: "no usage_usec"))
            }
            return usage
        case .v1:
            let file = "\(dir)/cpuacct.usage"
            let text = try FileIO.readText(file)
            guard let nanoseconds = UInt64(text.trimmedLine) else {
                throw .parse(ProcParseError(file: file, reason: "'\(text.trimmedLine)' is not a count of nanoseconds"))
            }
            return nanoseconds / 1000
        }
    }

    /// The cgroup's own CPU quota in CPUs; `nil` without one (the root cgroup has none).
    public func quota() throws(AgentError) -> Double? {
        guard let cpuMount else { return nil }
        let dir = Self.directory(cpuMount, path)
        switch version {
        case .v2:
            let file = "\(dir)/cpu.max"
            guard FileIO.exists(file) else { return nil }
            let text = try FileIO.readText(file)
            return try Self.parsing(file) { () throws(ProcParseError) in try CgroupText.quota(cpuMax: text) }
        case .v1:
            let quotaFile = "\(dir)/cpu.cfs_quota_us"
            guard FileIO.exists(quotaFile) else { return nil }
            let quota = try FileIO.readText(quotaFile)
            let period = try FileIO.readText("\(dir)/cpu.cfs_period_us")
            return try Self.parsing(quotaFile) { () throws(ProcParseError) in
                try CgroupText.quota(cfsQuota: quota, cfsPeriod: period)
            }
        }
    }

    /// The cgroup's CFS throttling counters; `nil` where the kernel keeps none (no cpu controller).
    public func throttling() throws(AgentError) -> CPUReading.Throttling? {
        guard let cpuMount else { return nil }
        let file = "\(Self.directory(cpuMount, path))/cpu.stat"
        guard FileIO.exists(file) else { return nil }
        let stat = try Self.keyed(file)
        let throttledMicroseconds: UInt64? =
            switch version {
            case .v2: stat["throttled_usec"]
            case .v1: stat["throttled_time"].map { $0 / 1000 }
            }
        guard let periods = stat["nr_periods"], let throttled = stat["nr_throttled"], let throttledMicroseconds else {
            return nil
        }
        return CPUReading.Throttling(
            cgroup: path, periods: periods, throttledPeriods: throttled, throttledMicroseconds: throttledMicroseconds)
    }

    /// How many CPUs the cgroup's cpuset allows; `nil` without a cpuset.
    public func cpusetCount() throws(AgentError) -> Int? {
        guard let cpusetMount else { return nil }
        let dir = Self.directory(cpusetMount, path)
        let names = version == .v2 ? ["cpuset.cpus.effective"] : ["cpuset.effective_cpus", "cpuset.cpus"]
        guard let file = names.map({ "\(dir)/\($0)" }).first(where: FileIO.exists) else { return nil }
        let text = try FileIO.readText(file)
        return try Self.parsing(file) { () throws(ProcParseError) in try CgroupText.cpuCount(list: text, file: file) }
    }

    /// The cgroup's own PSI file (v2 with PSI); v1 has none.
    public var pressureFile: String? {
        guard version == .v2 else { return nil }
        let file = "\(Self.directory(usageMount, path))/cpu.pressure"
        return FileIO.exists(file) ? file : nil
    }

    static func keyed(_ file: String) throws(AgentError) -> [String: UInt64] {
        let text = try FileIO.readText(file)
        return try parsing(file) { () throws(ProcParseError) in try CgroupText.keyed(text, file: file) }
    }

    static func parsing<T>(_ file: String, _ body: () throws(ProcParseError) -> T) throws(AgentError) -> T {
        do { return try body() } catch {
            throw .parse(ProcParseError(file: file, reason: error.reason))
        }
    }
}
