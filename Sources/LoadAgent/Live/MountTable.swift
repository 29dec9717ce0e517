/// The cgroup file systems mounted, from `/proc/self/mountinfo`
/// (`41 31 0:38 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw`).
public struct MountTable: Sendable, Equatable {
    public struct Mount: Sendable, Equatable {
        /// The directory of the hierarchy mounted here ("/" unless a subtree is bind-mounted, as in some containers).
        public var root: String
        public var point: String
        public var type: String
        /// The file system's own options: a v1 cgroup mount lists its controllers here ("rw,cpu,cpuacct").
        public var superOptions: [String]

        public init(root: String, point: String, type: String, superOptions: [String]) {
            self.root = root
            self.point = point
            self.type = type
            self.superOptions = superOptions
        }

        /// The path below ``point`` of the cgroup at `path` of the hierarchy (as /proc/self/cgroup names it);
        /// `nil` when that cgroup is outside the mounted subtree.
        public func relative(_ path: String) -> String? {
            if root == "/" { return path }
            if path == root { return "/" }
            guard path.hasPrefix(root + "/") else { return nil }
            return String(path.dropFirst(root.count))
        }
    }

    public var mounts: [Mount]

    public init(mounts: [Mount]) {
        self.mounts = mounts
    }

    /// Parses the text of /proc/self/mountinfo, keeping the cgroup and cgroup2 mounts.
    public static func parse(_ text: String) throws(ProcParseError) -> MountTable {
        var mounts: [Mount] = []
        for line in text.split(separator: "\n") where !line.isEmpty {
            let fields = line.split(separator: " ")
            // ID PARENT MAJOR:MINOR ROOT POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER-OPTIONS
            guard let dash = fields.firstIndex(of: "-"), dash >= 6, fields.count >= dash + 4 else {
                throw ProcParseError(file: "self/mountinfo", reason: "unexpected line '\(line)'")
            }
            let type = String(fields[dash + 1])
            guard type == "cgroup" || type == "cgroup2" else { continue }
            mounts.append(
                Mount(
                    root: unescape(fields[3]), point: unescape(fields[4]), type: type,
                    superOptions: fields[dash + 3].split(separator: ",").map(String.init)))
        }
        return MountTable(mounts: mounts)
    }

    /// The first cgroup2 mount that shows `path` (a unified-hierarchy path).
    public func unified(showing path: String) -> Mount? {
        mounts.first { $0.type == "cgroup2" && $0.relative(path) != nil }
    }

    /// The first v1 mount of `controller` that shows `path`.
    public func v1(_ controller: String, showing path: String) -> Mount? {
        mounts.first { $0.type == "cgroup" && $0.superOptions.contains(controller) && $0.relative(path) != nil }
    }

    /// mountinfo writes space, tab, newline and backslash as octal escapes (`\040`).
    static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        var rest = Array(field.utf8)[...]
        while let byte = rest.popFirst() {
            if byte == UInt8(ascii: "\\"), rest.count >= 3,
                let value = UInt8(String(decoding: rest.prefix(3), as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                rest = rest.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
