/// The cgroups a process belongs to, from `/proc/<pid>/cgroup`: `0::/web1` for the unified (v2) hierarchy,
/// `4:cpu,cpuacct:/lxc/ct1` for each v1 hierarchy (one line per hierarchy, its controllers comma-separated).
public struct CgroupMembership: Sendable, Equatable {
    /// The path in the unified (v2) hierarchy; `nil` without a `0::` line.
    public var unified: String?
    /// The path in each v1 hierarchy, by controller ("cpu", "cpuacct", "cpuset"; named ones as "name=systemd").
    public var controllers: [String: String]

    public init(unified: String?, controllers: [String: String]) {
        self.unified = unified
        self.controllers = controllers
    }

    /// Parses the text of /proc/self/cgroup.
    public static func parse(_ text: String) throws(ProcParseError) -> CgroupMembership {
        var unified: String?
        var controllers: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.isEmpty {
            // The path may itself contain ':'; the first two fields cannot.
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, Int(fields[0]) != nil, fields[2].hasPrefix("/") else {
                throw ProcParseError(file: "self/cgroup", reason: "expected 'ID:CONTROLLERS:/PATH', found '\(line)'")
            }
            let path = String(fields[2])
            if fields[0] == "0", fields[1].isEmpty {
                unified = path
            } else {
                for controller in fields[1].split(separator: ",") { controllers[String(controller)] = path }
            }
        }
        return CgroupMembership(unified: unified, controllers: controllers)
    }
}
