import Foundation
import IPVS
import XCTest

/// Kernel tests need IPVS, which only the user-mode-linux kernel of scripts/ipvs-vm has here.
/// Outside it they skip and say why; under CI=true they fail instead, so CI cannot pass without running them.
func requireIPVSKernel() throws {
    let environment = ProcessInfo.processInfo.environment
    guard environment["H2E_IN_VM"] == "1" else {
        let reason = "needs a kernel with IPVS: run scripts/test, which boots one (scripts/ipvs-vm)"
        if environment["CI"] == "true" { XCTFail("CI: kernel test not run: \(reason)") }
        throw XCTSkip(reason)
    }
}

/// Runs a shell command, returning its exit status and combined output.
@discardableResult
func shell(_ command: String, file: StaticString = #filePath, line: UInt = #line) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", command]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
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

func v4(_ text: String) -> InetAddress { InetAddress(text)! }
