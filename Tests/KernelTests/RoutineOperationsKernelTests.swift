import Director
import Foundation
import TestSupport
import XCTest

/// Routine operations lose no request of an unchanged service: while a client sends a steady stream of requests
/// through a VIP, the operator reloads the configuration 20 times (each reload changes only the *other* virtual
/// servers) and the active director is killed with SIGKILL and restarted 10 times (`hard_shutdown = 0`, no peer, so
/// the restarted director adopts the kernel table it finds). Every request to the unchanged service must succeed.
///
/// Topology (NAT), all inside the VM: the director in the VM's root namespace with the VIPs on `ro0`, a client
/// namespace behind `ro0`, and two real servers (busybox httpd on ports 80 and 8080) in their own namespaces routed
/// through the director.
final class RoutineOperationsKernelTests: XCTestCase {
    private let directory = "/tmp/h2e-routine"
    private var daemon: Process?

    private var binary: String { productsDirectory.appendingPathComponent("h2e-director").path }
    private var socket: String { directory + "/director.sock" }
    private var logPath: String { directory + "/director.log" }

    override func setUp() async throws {
        try requireIPVSKernel()
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
        try mustRun("""
            set -e
            ipvsadm -C
            sysctl -qw net.ipv4.ip_forward=1
            ip netns add h2e-ro-client
            ip link add ro0 type veth peer name c0 netns h2e-ro-client
            ip addr add 10.40.0.1/24 dev ro0; ip link set ro0 up
            ip -n h2e-ro-client addr add 10.40.0.2/24 dev c0; ip -n h2e-ro-client link set c0 up
            ip -n h2e-ro-client link set lo up
            for i in 1 2; do
              ip netns add h2e-ro-rs$i
              ip link add ro$i type veth peer name r$i netns h2e-ro-rs$i
              ip addr add 10.4$i.0.1/24 dev ro$i; ip link set ro$i up
              ip -n h2e-ro-rs$i addr add 10.4$i.0.2/24 dev r$i; ip -n h2e-ro-rs$i link set r$i up
              ip -n h2e-ro-rs$i link set lo up; ip -n h2e-ro-rs$i route add default via 10.4$i.0.1
              mkdir -p \(directory)/www$i; echo "server rs$i" > \(directory)/www$i/index.html
              ip netns exec h2e-ro-rs$i busybox httpd -p 80 -h \(directory)/www$i </dev/null >/dev/null 2>&1
              ip netns exec h2e-ro-rs$i busybox httpd -p 8080 -h \(directory)/www$i </dev/null >/dev/null 2>&1
            done
            """)
    }

    override func tearDown() async throws {
        if let daemon, daemon.isRunning {
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
        }
        _ = try? shell("""
            touch \(directory)/stop-client; sleep 0.3
            pkill -f 'busybox httpd'; ipvsadm -C
            ip netns del h2e-ro-client; ip netns del h2e-ro-rs1; ip netns del h2e-ro-rs2
            ip link del ro0; ip link del ro1; ip link del ro2
            """)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The configuration of reload `generation`: virtual `web` never changes; `other` changes its weights every
    /// reload, loses and regains a server, and `extra` comes and goes (with its VIP alias).
    private func configuration(generation: Int) -> String {
        let check = #"send = "GET / HTTP/1.0\r\n\r\n"\#n    expect = "HTTP"\#n    check_interval = 1\#n    timeout = 2"#
        let extraActive = generation % 2 == 1 ? 1 : 0
        let secondOther =
            generation % 3 == 2
            ? "" : "server o2 {\n        active = 1\n        address = 10.42.0.2\n        weight = \(10 + generation)\n    }"
        return """
            service = lvs
            network = nat
            hard_shutdown = 0
            virtual web {
                active = 1
                address = 10.40.0.100 ro0:1
                port = 80
                scheduler = wlc
                \(check)
                server w1 {
                    active = 1
                    address = 10.41.0.2
                    weight = 10
                }
                server w2 {
                    active = 1
                    address = 10.42.0.2
                    weight = 10
                }
            }
            virtual other {
                active = 1
                address = 10.40.0.101 ro0:2
                port = 8080
                scheduler = wlc
                \(check)
                server o1 {
                    active = 1
                    address = 10.41.0.2
                    weight = \(20 + generation)
                }
                \(secondOther)
            }
            virtual extra {
                active = \(extraActive)
                address = 10.40.0.102 ro0:3
                port = 8080
                \(check)
                server x1 {
                    active = 1
                    address = 10.41.0.2
                    weight = 5
                }
            }

            """
    }

    private func write(generation: Int) throws {
        // Written beside and renamed, as an editor or a provisioning script would, so a reload never reads half a file.
        try configuration(generation: generation).write(toFile: directory + "/lvs.cf", atomically: true, encoding: .utf8)
    }

    private func startDirector() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "run", "--config", directory + "/lvs.cf", "--socket", socket, "--state-dir", directory + "/state",
        ]
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = log
        try process.run()
        daemon = process
        let up = await waitUntil(timeout: .seconds(20)) { (try? await self.status())?.director.role == "active" }
        guard up else {
            XCTFail("the director did not report active within 20 s; log:\n\(logText())")
            throw CancellationError()
        }
    }

    private func status() async throws -> StatusReport? {
        try await ControlClient(path: socket, timeout: .seconds(2)).send(ControlRequest(command: .status)).status
    }

    private func logText() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The client's results so far: one `CODE` line per request to `url`.
    private func results(_ name: String) -> [Substring] {
        ((try? String(contentsOfFile: "\(directory)/\(name).results", encoding: .utf8)) ?? "").split(separator: "\n")
    }

    /// Starts a client in the client namespace sending one request (a new connection) to `url` every 50 ms, each
    /// with a 2 s limit, until the stop file exists; each result is a line of its own (000 for a failed request).
    private func startClient(_ name: String, _ url: String) throws {
        try mustRun("""
            ip netns exec h2e-ro-client setsid bash -c 'while [ ! -e \(directory)/stop-client ]; do \
            curl -s -o /dev/null -m 2 -w "%{http_code}\\n" \(url) >> \(directory)/\(name).results; sleep 0.05; done' \
            </dev/null >/dev/null 2>&1 &
            """)
    }

    func testReloadsAndRestartsLoseNoRequestOfAnUnchangedService() async throws {
        try write(generation: 0)
        try await startDirector()
        let programmed = await waitUntil(timeout: .seconds(15)) {
            (try? shell("ipvsadm -Ln").output).map { $0.contains("10.41.0.2:80") && $0.contains("10.42.0.2:80") } == true
        }
        XCTAssertTrue(programmed, "the web service and both servers are in the table: \(logText())")
        let reachable = await waitUntil(timeout: .seconds(10)) {
            (try? shell("ip netns exec h2e-ro-client curl -s -m 1 http://10.40.0.100/").output)?.contains("server rs") == true
        }
        XCTAssertTrue(reachable, "the client reaches the VIP: \(logText())")
        try startClient("web", "http://10.40.0.100/")

        /// Waits until the client has sent `count` more requests, so every operation happens under traffic.
        func traffic(_ count: Int) async {
            let target = results("web").count + count
            _ = await waitUntil(timeout: .seconds(30)) { self.results("web").count >= target }
        }

        var reloads = 0
        var restarts = 0
        for round in 1...10 {
            for step in 0..<2 {
                let generation = round * 2 + step
                try write(generation: generation)
                let signalled = ContinuousClock.now
                kill(daemon!.processIdentifier, SIGHUP)
                // Taken once the loaded configuration is younger than the signal.
                let reloaded = await waitUntil(timeout: .seconds(10)) {
                    guard let age = (try? await self.status())?.director.configAgeSeconds else { return false }
                    let since = ContinuousClock.now - signalled
                    return age < Double(since.components.seconds) + Double(since.components.attoseconds) / 1e18
                }
                XCTAssertTrue(reloaded, "reload \(generation) was taken: \(logText())")
                reloads += 1
                await traffic(3)
            }
            kill(daemon!.processIdentifier, SIGKILL)
            daemon!.waitUntilExit()
            await traffic(2)  // requests while no director runs: the kernel keeps forwarding
            try await startDirector()
            restarts += 1
            await traffic(3)
        }
        await traffic(10)
        try "".write(toFile: directory + "/stop-client", atomically: true, encoding: .utf8)

        let web = results("web")
        let failed = web.filter { $0 != "200" }
        XCTAssertEqual(reloads, 20)
        XCTAssertEqual(restarts, 10)
        XCTAssertGreaterThan(web.count, 100, "the client kept sending")
        XCTAssertEqual(failed.count, 0, "\(failed.count) of \(web.count) requests to the unchanged service failed; log:\n\(logText())")
        print("routine operations: \(reloads) reloads, \(restarts) kill -9 + restarts, \(web.count) requests, \(failed.count) failed")

        // The reloads did change the other virtual servers: the last configuration (generation 21) is in the kernel.
        let listing = try shell("ipvsadm -Ln").output
        XCTAssertTrue(listing.contains("TCP  10.40.0.102:8080"), "extra is active in generation 21: \(listing)")
        XCTAssertTrue(listing.contains("10.41.0.2:8080"), listing)
    }
}
