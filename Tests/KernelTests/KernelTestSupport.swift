import Addressing
import Foundation
import IPVS
import TestSupport
import XCTest

/// Kernel tests need IPVS, which only the user-mode-linux kernel of scripts/ipvs-vm has here.
/// Outside it they skip and say why; under CI=true they fail instead, so CI cannot pass without running them.
func requireIPVSKernel() throws {
    guard ProcessInfo.processInfo.environment["H2E_IN_VM"] == "1" else {
        throw unavailable("needs a kernel with IPVS: run scripts/test, which boots one (scripts/ipvs-vm)")
    }
}

/// Runs a shell command that must succeed; returns its output.
@discardableResult
func mustRun(_ command: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let result = try shell(command)
    guard result.status == 0 else {
        XCTFail("`\(command)` exited \(result.status): \(result.output)", file: file, line: line)
        throw CancellationError()
    }
    return result.output
}

/// The repository's root (scripts/ and its libraries are read from there).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// The directory of the built products (h2e-director, h2e-agent next to the test bundle).
var productsDirectory: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func waitUntil(timeout: Duration, interval: Duration = .milliseconds(50), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}

/// The VM's cgroup v2 root, mounted at /sys/fs/cgroup first if it is not, with the cpu controller enabled for its
/// children. Fails the test and throws, saying what the kernel lacks, when it cannot be had.
func cgroupV2CPURoot(file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let root = "/sys/fs/cgroup"
    if try shell("grep -q ' \(root) cgroup2 ' /proc/mounts").status != 0 {
        try mustRun("mount -t cgroup2 none \(root)", file: file, line: line)
    }
    let controllers = (try? String(contentsOfFile: "\(root)/cgroup.controllers", encoding: .utf8)) ?? ""
    guard controllers.split(whereSeparator: \.isWhitespace).contains("cpu") else {
        XCTFail("the VM kernel has no cpu controller in cgroup v2 (controllers: '\(controllers)')", file: file, line: line)
        throw CancellationError()
    }
    try mustRun(
        "grep -qw cpu \(root)/cgroup.subtree_control || echo +cpu > \(root)/cgroup.subtree_control", file: file, line: line)
    return root
}

func v4(_ text: String) -> IPAddress { IPAddress(text)! }
