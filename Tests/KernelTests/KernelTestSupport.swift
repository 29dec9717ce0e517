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

/// Runs a shell command, returning its exit status and combined output.
///
/// Output goes through a temporary file rather than a pipe, so a daemon the command starts (busybox httpd) cannot
/// hold the test up by keeping a pipe open; posix_spawn + waitpid keep Foundation's child reaping out of the way.
@discardableResult
func shell(_ command: String) throws -> (status: Int32, output: String) {
    let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("h2e-shell-\(UUID().uuidString)").path
    defer { unlink(outputPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/bash"), strdup("-c"), strdup(command), nil]
    defer { argv.forEach { free($0) } }
    let rc = posix_spawn(&pid, "/bin/bash", &actions, nil, argv, environ)
    guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    let exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return (exitStatus, output)
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
