/// Finds the cgroup whose CPU the live load figure measures, from /proc/self/cgroup and /proc/self/mountinfo.
///
/// v1 is used when the cpuacct controller is mounted as a v1 hierarchy (hybrid hosts keep the CPU controllers
/// there and mount an empty unified hierarchy beside them), else v2.
public struct CgroupLocator: Sendable {
    /// The /proc directory ("/proc").
    public var procRoot: String
    /// Prefixed to every mount point ("" on a real system; a temp dir in tests).
    public var fileRoot: String

    public init(procRoot: String = "/proc", fileRoot: String = "") {
        self.procRoot = procRoot
        self.fileRoot = fileRoot
    }

    /// The cgroup to measure.
    /// - `requested` (`serve --cgroup`): a path relative to the hierarchy's root (`system.slice/apache2.service`,
    ///   a leading `/` allowed) or absolute under its mount (`/sys/fs/cgroup/system.slice/apache2.service`);
    ///   throws, saying what to pass instead, when it cannot be read.
    /// - `nil`: the agent's own cgroup or, since the agent usually runs in a unit of its own (its usage alone says
    ///   nothing), the nearest enclosing one with a CPU limit: a quota, or a cpuset narrower than its parent's (a
    ///   container, a limited slice, the webserver's cgroup the agent was started in). Without any limit, the root
    ///   of the hierarchy the agent sees: the whole machine or container. `nil` when no cgroup file system can be
    ///   read; the figure then comes from /proc/stat.
    public func locate(requested: String?) throws(AgentError) -> Cgroup? {
        guard let (base, mounts) = try hierarchy(required: requested != nil) else { return nil }
        if let requested {
            let path = try normalise(requested, mountPoints: mounts)
            let cgroup = base.at(path)
            do { _ = try cgroup.usageMicroseconds() } catch {
                throw .invalidArgument(
                    "cannot read the CPU usage of cgroup \(path) (\(error.summary)); pass --cgroup a path relative to the "
                        + "cgroup root (e.g. system.slice/apache2.service) or absolute under \(mounts[0]), of a "
                        + "cgroup that exists (is the service running?)")
            }
            return cgroup
        }
        for path in base.lineage where (try? isLimited(base.at(path))) == true {
            return base.at(path)
        }
        let root = base.at("/")
        return (try? root.usageMicroseconds()) != nil ? root : nil
    }

    /// The agent's own cgroup (its path in the measured hierarchy) and the mount points of the hierarchies read
    /// (as mounted, without ``fileRoot``), the usage one first.
    func hierarchy(required: Bool) throws(AgentError) -> (Cgroup, [String])? {
        let membership: CgroupMembership
        let mounts: MountTable
        do {
            let cgroupText = try FileIO.readText("\(procRoot)/self/cgroup")
            let mountText = try FileIO.readText("\(procRoot)/self/mountinfo")
            membership = try Self.parsing { () throws(ProcParseError) in try CgroupMembership.parse(cgroupText) }
            mounts = try Self.parsing { () throws(ProcParseError) in try MountTable.parse(mountText) }
        } catch {
            guard required else { return nil }
            throw .invalidArgument("--cgroup: cannot find this process's cgroups: \(error.summary)")
        }
        if let own = membership.controllers["cpuacct"], let usage = mounts.v1("cpuacct", showing: own),
            let path = usage.relative(own)
        {
            let cpu = membership.controllers["cpu"].flatMap { mounts.v1("cpu", showing: $0) }
            let cpuset = membership.controllers["cpuset"].flatMap { mounts.v1("cpuset", showing: $0) }
            let cgroup = Cgroup(
                version: .v1, path: path, usageMount: fileRoot + usage.point, cpuMount: cpu.map { fileRoot + $0.point },
                cpusetMount: cpuset.map { fileRoot + $0.point })
            return (cgroup, [usage, cpu, cpuset].compactMap { $0?.point })
        }
        if let own = membership.unified, let unified = mounts.unified(showing: own), let path = unified.relative(own) {
            let point = fileRoot + unified.point
            return (Cgroup(version: .v2, path: path, usageMount: point, cpuMount: point, cpusetMount: point), [unified.point])
        }
        guard required else { return nil }
        throw .invalidArgument(
            "--cgroup: no cgroup file system with CPU accounting is mounted (neither cgroup2 nor a v1 cpuacct "
                + "hierarchy in \(procRoot)/self/mountinfo); drop --cgroup to measure the host from /proc/stat")
    }

    /// `requested` as a path below the hierarchy's mount: the part after one of `mountPoints`, or the relative path
    /// as given.
    func normalise(_ requested: String, mountPoints: [String]) throws(AgentError) -> String {
        var rest = Substring(requested)
        if let point = mountPoints.filter({ requested == $0 || requested.hasPrefix($0 + "/") }).max(by: { $0.count < $1.count }) {
            rest = rest.dropFirst(point.count)
        }
        let parts = rest.split(separator: "/")
        guard !parts.contains(where: { $0 == "." || $0 == ".." }) else {
            throw .invalidArgument("--cgroup \(requested): '.' and '..' are not allowed; give the cgroup's path")
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Whether the cgroup itself sets a CPU limit: a quota, or a cpuset narrower than its parent's.
    func isLimited(_ cgroup: Cgroup) throws(AgentError) -> Bool {
        if try cgroup.quota() != nil { return true }
        guard cgroup.path != "/", let count = try cgroup.cpusetCount() else { return false }
        let parent = cgroup.lineage[1]
        guard let parentCount = try cgroup.at(parent).cpusetCount() else { return false }
        return count < parentCount
    }

    static func parsing<T>(_ body: () throws(ProcParseError) -> T) throws(AgentError) -> T {
        do { return try body() } catch { throw .parse(error) }
    }
}
