import Foundation
import TestSupport
import XCTest

/// A real child cgroup of the root with a CPU quota, made for one test and removed after it: on cgroup v2 where the
/// cpu controller is there to enable, else on the v1 cpu and cpuacct hierarchies (this build machine is a hybrid
/// host: every v1 controller mounted apart, an empty unified hierarchy beside them).
final class TestCgroup {
    /// The path to pass to `serve --cgroup` ("/h2e-test-1234").
    let path: String
    /// Directories made (removed in reverse at deinit).
    private var directories: [String] = []

    /// Makes the cgroup with `quota` CPUs (period 100 ms); skips (fails under CI=true) where it cannot.
    init(quota: Double, file: StaticString = #filePath, line: UInt = #line) throws {
        path = "/h2e-test-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        guard getuid() == 0 else { throw unavailable("making a cgroup needs root", file: file, line: line) }
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        let fields = mounts.split(separator: "\n").map { $0.split(separator: " ") }
        func mountPoint(type: String, option: String?) -> String? {
            fields.first { f in
                guard let dash = f.firstIndex(of: "-"), f.count > dash + 3, f[dash + 1] == type else { return false }
                return option.map { f[dash + 3].split(separator: ",").contains(Substring($0)) } ?? true
            }.map { String($0[4]) }
        }
        let quotaMicroseconds = Int(quota * 100_000)
        if let unified = mountPoint(type: "cgroup2", option: nil),
            let controllers = try? String(contentsOfFile: "\(unified)/cgroup.controllers", encoding: .utf8),
            controllers.split(whereSeparator: { $0 == " " || $0 == "\n" }).contains("cpu")
        {
            try? "+cpu".write(toFile: "\(unified)/cgroup.subtree_control", atomically: false, encoding: .utf8)
            try make("\(unified)\(path)")
            try write("\(quotaMicroseconds) 100000", to: "\(unified)\(path)/cpu.max")
        } else if let cpu = mountPoint(type: "cgroup", option: "cpu"), let cpuacct = mountPoint(type: "cgroup", option: "cpuacct") {
            try make("\(cpu)\(path)")
            if cpuacct != cpu { try make("\(cpuacct)\(path)") }
            try write("100000", to: "\(cpu)\(path)/cpu.cfs_period_us")
            try write("\(quotaMicroseconds)", to: "\(cpu)\(path)/cpu.cfs_quota_us")
        } else {
            throw unavailable("no cgroup v2 cpu controller and no v1 cpu/cpuacct hierarchy to make a cgroup in", file: file, line: line)
        }
    }

    /// Moves process `pid` into the cgroup (every hierarchy of it).
    func add(_ pid: Int32) throws {
        for dir in directories { try write("\(pid)", to: "\(dir)/cgroup.procs") }
    }

    deinit {
        // A cgroup is removed once empty: its processes must have exited (the test waits for them).
        for dir in directories.reversed() { rmdir(dir) }
    }

    private func make(_ dir: String) throws {
        guard mkdir(dir, 0o755) == 0 else {
            throw unavailable("cannot make the cgroup \(dir): \(String(cString: strerror(errno)))")
        }
        directories.append(dir)
    }

    private func write(_ text: String, to file: String) throws {
        let fd = open(file, O_WRONLY)
        guard fd >= 0 else { throw unavailable("cannot open \(file): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else {
            throw unavailable("cannot write '\(text)' to \(file): \(String(cString: strerror(errno)))")
        }
    }
}
