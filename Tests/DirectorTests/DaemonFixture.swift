import Director
import Foundation
import TestSupport
import XCTest

/// A real `h2e-director run` in a network namespace the test creates (with a veth pair for the VIPs), the
/// in-memory IPVS backend (this host's kernel has no IPVS), health checks by `send_program` on marker files and
/// load from a program reading files, so a test switches servers up and down and sets loads by writing files.
/// Everything is removed by `stop()`.
final class DaemonFixture {
    let directory: String
    let namespace: String
    let socket: String
    let stateDirectory: String
    let configPath: String
    let logPath: String
    let metricsPort: Int
    /// Whether `stop()` deletes the namespace (false when it belongs to a ``DirectorPair``).
    private let ownsNamespace: Bool
    private var process: Process?

    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("h2e-director").path
    }

    /// Skips (fails under CI) when the test cannot run here: not root, no `ip`, no binary.
    static func requirements() throws {
        var reasons: [String] = []
        if geteuid() != 0 { reasons.append("needs root (network namespaces)") }
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") && !FileManager.default.isExecutableFile(atPath: "/sbin/ip") {
            reasons.append("needs iproute2's ip")
        }
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") { reasons.append("needs curl") }
        if !FileManager.default.isExecutableFile(atPath: binary) { reasons.append("needs \(binary): swift build first") }
        guard reasons.isEmpty else {
            let reason = reasons.joined(separator: "; ")
            throw unavailable(reason)
        }
    }

    /// - Parameter namespace: an existing namespace to run in; nil creates one with a veth pair `vip0`/`vip0p`.
    init(namespace existing: String? = nil) throws {
        let id = String(UUID().uuidString.prefix(8)).lowercased()
        directory = "/tmp/h2e-director-test-\(id)"
        namespace = existing ?? "h2edir\(id)"
        ownsNamespace = existing == nil
        socket = directory + "/director.sock"
        stateDirectory = directory + "/state"
        configPath = directory + "/lvs.cf"
        logPath = directory + "/director.log"
        metricsPort = Int.random(in: 20000...40000)
        try FileManager.default.createDirectory(atPath: directory + "/marks", withIntermediateDirectories: true)
        let loadScript = directory + "/load"
        try "#!/bin/sh\ncat \(directory)/marks/load-$1 2>/dev/null || echo 0.5\n".write(toFile: loadScript, atomically: true, encoding: .utf8)
        chmod(loadScript, 0o755)
        guard existing == nil else { return }
        try run("ip netns add \(namespace)")
        do {
            try run("ip -n \(namespace) link set lo up")
            // A veth pair inside the namespace: this host's kernel has no dummy interfaces.
            try run("ip -n \(namespace) link add vip0 type veth peer name vip0p")
            try run("ip -n \(namespace) link set vip0 up && ip -n \(namespace) link set vip0p up")
        } catch {
            stop()
            throw error
        }
    }

    /// A configuration: virtual `web` on 10.0.0.10:80 (VIP on vip0) with real servers web1 127.0.0.2 (weight 32)
    /// and web2 127.0.0.3 (weight 16), checked every second, load from the load script.
    func configuration(extraVirtual: String = "", extraGlobal: String = "", web2Weight: Int = 16) -> String {
        """
        network = direct
        service = lvs
        hard_shutdown = 0
        weight_interval = 1
        \(extraGlobal)
        virtual web {
            active = 1
            address = 10.0.0.10 vip0:1
            port = 80
            scheduler = wlc
            send_program = "/usr/bin/test ! -e \(directory)/marks/down-%h"
            timeout = 2
            reentry = 0
            check_interval = 1
            load_monitor = \(directory)/load
            \(extraVirtual)
            server web1 {
                active = 1
                address = 127.0.0.2
                weight = 32
            }
            server web2 {
                active = 1
                address = 127.0.0.3
                weight = \(web2Weight)
            }
        }

        """
    }

    func writeConfiguration(_ text: String) throws {
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    func mark(_ name: String, _ content: String? = "") throws {
        let path = directory + "/marks/" + name
        if let content {
            try content.write(toFile: path, atomically: true, encoding: .utf8)
        } else {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// Starts the daemon in the namespace; returns once its control socket answers.
    /// - Parameter descriptors: a lower RLIMIT_NOFILE for the daemon (prlimit), to exhaust it quickly.
    func start(metrics: Bool = true, descriptors: Int? = nil) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        let limit = descriptors.map { ["/usr/bin/prlimit", "--nofile=\($0):\($0)", "--"] } ?? []
        process.arguments = [
            "netns", "exec", namespace] + limit + [Self.binary, "run", "--config", configPath, "--socket", socket, "--state-dir",
            stateDirectory, "--ipvs", "memory",
        ] + (metrics ? ["--metrics", "127.0.0.1:\(metricsPort)"] : [])
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = log
        try process.run()
        self.process = process
        let up = await waitUntil(timeout: .seconds(20)) { (try? await self.status()) != nil }
        guard up else {
            throw FixtureError("the daemon did not answer on \(socket) within 20 s; log:\n\(self.log)")
        }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func status() async throws -> StatusReport {
        let response = try await ControlClient(path: socket, timeout: .seconds(2)).send(ControlRequest(command: .status))
        guard let status = response.status else { throw FixtureError(response.error ?? "no status") }
        return status
    }

    func table() async throws -> IPVSTableView {
        let response = try await ControlClient(path: socket, timeout: .seconds(2)).send(ControlRequest(command: .table))
        guard let table = response.table else { throw FixtureError(response.error ?? "no table") }
        return IPVSTableView(weights: Dictionary(uniqueKeysWithValues: table.services.flatMap { service in
            service.destinations.map { ("\(service.key) \($0.id)", $0.weight) }
        }))
    }

    func signal(_ number: Int32) {
        guard let process else { return }
        // `ip netns exec` execs the daemon, so the pid is the daemon's.
        kill(process.processIdentifier, number)
    }

    /// SIGTERM and wait; returns the exit status.
    @discardableResult
    func terminate() async throws -> Int32 {
        guard let process else { return -1 }
        signal(SIGTERM)
        let ended = await waitUntil(timeout: .seconds(20)) { !process.isRunning }
        guard ended else {
            kill(process.processIdentifier, SIGKILL)
            throw FixtureError("the daemon did not stop within 20 s of SIGTERM; log:\n\(log)")
        }
        self.process = nil
        return process.terminationStatus
    }

    /// SIGKILL, as a crash: nothing is cleaned up.
    func crash() {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// Runs the h2e-director binary (a client command) and returns status and output.
    func cli(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try shell(([Self.binary] + arguments).map(Self.quote).joined(separator: " "))
    }

    /// Runs a command in the namespace.
    func inNamespace(_ command: String) throws -> (status: Int32, output: String) {
        try shell("ip netns exec \(namespace) \(command)")
    }

    func stop() {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        if ownsNamespace { _ = try? shell("ip netns del \(namespace)") }
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func run(_ command: String) throws {
        let result = try shell(command)
        guard result.status == 0 else { throw FixtureError("`\(command)` failed: \(result.output)") }
    }

    static func quote(_ text: String) -> String { "'" + text.replacing("'", with: "'\\''") + "'" }
}

/// The weights of a table by `SERVICE SERVER` (`TCP 10.0.0.10:80 127.0.0.2:80`).
struct IPVSTableView: Equatable {
    var weights: [String: Int]
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `timeout` passes.
func waitUntil(timeout: Duration, interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
