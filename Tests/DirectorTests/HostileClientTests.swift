import Director
import Foundation
import TestSupport
import XCTest

/// A running director against what local users and unlucky operators do to it (issue 15): floods of idle and
/// slow connections to the metrics port as `nobody`, broken and hostile lvs.cf files on SIGHUP, a damaged
/// overrides.json, clients that half-close, HTTP/0.9.
final class HostileClientTests: XCTestCase {
    var fixture: DaemonFixture!

    override func setUp() async throws {
        try DaemonFixture.requirements()
        var missing: [String] = []
        for tool in ["/usr/bin/python3", "/usr/bin/prlimit", "/usr/bin/setpriv", "/usr/bin/busybox"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            missing.append(tool)
        }
        if !missing.isEmpty {
            let reason = "needs \(missing.joined(separator: ", ")) (scripts/apt/director.list)"
            throw unavailable(reason)
        }
        fixture = try DaemonFixture()
    }

    override func tearDown() async throws {
        // busybox httpd ignores SIGTERM in a namespace's init-less process tree: SIGKILL.
        for server in httpd where server.isRunning {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        fixture?.stop()
    }

    var httpd: [Process] = []

    /// Three busybox httpd real servers on 127.0.0.2-4:80 in the namespace, checked by TCP (a socket per check,
    /// so running out of descriptors would hit them), every second, `reentry = 0`.
    func tcpConfiguration() throws -> String {
        try FileManager.default.createDirectory(atPath: fixture.directory + "/www", withIntermediateDirectories: true)
        try "ok\n".write(toFile: fixture.directory + "/www/index.html", atomically: true, encoding: .utf8)
        var text = """
            network = direct
            service = lvs
            hard_shutdown = 0
            virtual web {
                active = 1
                address = 10.0.0.10 vip0:1
                port = 80
                scheduler = wlc
                send = "GET / HTTP/1.0\\r\\n\\r\\n"
                expect = "HTTP"
                timeout = 2
                reentry = 0
                check_interval = 1

            """
        for index in 2...4 {
            // In the foreground (-f), as a child this test stops: a daemonizing httpd is hard to wait for.
            let server = Process()
            server.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            server.arguments = [
                "netns", "exec", fixture.namespace, "/usr/bin/busybox", "httpd", "-f", "-p", "127.0.0.\(index):80", "-h",
                fixture.directory + "/www",
            ]
            try server.run()
            httpd.append(server)
            text += "    server web\(index) {\n        active = 1\n        address = 127.0.0.\(index)\n        weight = 1\n    }\n"
        }
        return text + "}\n"
    }

    func allUp(_ status: StatusReport?) -> Bool {
        guard let servers = status?.virtuals.first?.servers, servers.count == 3 else { return false }
        return servers.allSatisfy { $0.health == "up" && $0.inTable }
    }

    /// The python client of scripts/attack-metrics-flood, run as `nobody` in the namespace.
    func flood(port: Int, connections: Int, hold: Double) throws -> Process {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/lib/idle-flood.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = [
            "netns", "exec", fixture.namespace, "/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
            "--clear-groups", "/usr/bin/python3", script, "127.0.0.1", String(port), String(connections), String(hold),
        ]
        let output = fixture.directory + "/flood.out"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = process.standardOutput
        try process.run()
        return process
    }

    func testAFloodOfIdleConnectionsAsNobodyRemovesNoServerAndStatusKeepsAnswering() async throws {
        try fixture.writeConfiguration(try tcpConfiguration())
        // 256 descriptors: the flood (1,000 connections, idle or sending half a request) is four times that.
        try await fixture.start(descriptors: 256)
        let ready = await waitUntil(timeout: .seconds(15)) { self.allUp(try? await self.fixture.status()) }
        XCTAssertTrue(ready, fixture.log)

        let flood = try flood(port: fixture.metricsPort, connections: 1_000, hold: 8)
        var answered = 0
        var unanswered: [String] = []
        var mostDescriptors = 0
        let pid = try await fixture.status().director.pid
        // Until the flood ends (it holds its connections 8 s: more than twice the read timeout), status must answer every
        // time with every server up.
        let deadline = ContinuousClock.now + .seconds(60)
        while flood.isRunning && ContinuousClock.now < deadline {
            do {
                let status = try await fixture.status()
                answered += 1
                XCTAssertTrue(allUp(status), "a server left the table during the flood: \(status.virtuals)")
                let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
                mostDescriptors = max(mostDescriptors, descriptors)
            } catch {
                unanswered.append("\(error)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        flood.waitUntilExit()
        let report = (try? String(contentsOfFile: fixture.directory + "/flood.out", encoding: .utf8)) ?? ""
        XCTAssertEqual(flood.terminationStatus, 0, report)
        XCTAssertEqual(unanswered, [], "status unanswered during the flood")
        XCTAssertGreaterThan(answered, 5)
        XCTAssertTrue(report.contains("connected 1000"), "the flood reached the director: \(report)")
        // The flood's own count of open connections includes those the kernel queued and never handed over; what
        // matters is what the director holds: its cap, far below its limit.
        XCTAssertLessThan(mostDescriptors, 200, "the director held at most its cap of connections")

        // The flood's client has exited, but the director may not have seen all its connections close yet, and
        // refuses new ones while at its cap: ask until it answers.
        var metrics = ""
        let answeredAfter = await waitUntil(timeout: .seconds(15)) {
            let result = try? self.fixture.inNamespace("curl -sS -f -m 5 http://127.0.0.1:\(self.fixture.metricsPort)/metrics")
            metrics = result?.output ?? ""
            return result?.status == 0
        }
        XCTAssertTrue(answeredAfter, "the metrics page did not answer after the flood: \(metrics)")
        XCTAssertTrue(metrics.contains("h2e_health_check_local_errors_total 0\n"), metrics)
        let refused = metrics.split(separator: "\n").first { $0.hasPrefix("h2e_listener_connections_refused_total{listener=\"status page") }
        XCTAssertNotNil(refused, metrics)
        XCTAssertNotEqual(refused?.split(separator: " ").last, "0", "the cap was reached: \(metrics)")
        XCTAssertFalse(fixture.log.contains("shutting down"), fixture.log)
        XCTAssertFalse(fixture.log.contains("Too many open files"), fixture.log)
        let after = try await fixture.status()
        XCTAssertTrue(allUp(after), "\(after.virtuals)")
    }

    func testReloadsRefuseEmptyCommentOnlyTruncatedAndFIFOFilesAndLaterSIGHUPsStillWork() async throws {
        let good = fixture.configuration()
        try fixture.writeConfiguration(good)
        try await fixture.start(metrics: false)
        let web2 = "TCP 10.0.0.10:80 127.0.0.3:80"
        let ready = await waitUntil(timeout: .seconds(10)) { (try? await self.fixture.table())?.weights[web2] == 16 }
        XCTAssertTrue(ready, fixture.log)

        let broken: [(String, () throws -> Void, String)] = [
            ("empty", { try self.fixture.writeConfiguration("") }, "reload refused"),
            ("comment-only", { try self.fixture.writeConfiguration("# lvs.cf\n# nothing here\n") }, "reload refused"),
            ("truncated", { try self.fixture.writeConfiguration(String(good.prefix(good.count / 2))) }, fixture.configPath + ":"),
            ("FIFO", {
                unlink(self.fixture.configPath)
                XCTAssertEqual(mkfifo(self.fixture.configPath, 0o600), 0)
            }, "is a FIFO (named pipe), not a regular file"),
        ]
        for (name, damage, expected) in broken {
            try damage()
            fixture.signal(SIGHUP)
            let refused = await waitUntil(timeout: .seconds(10)) {
                (try? await self.fixture.status())?.director.reloadError?.contains(expected) == true
            }
            XCTAssertTrue(refused, "\(name): \(fixture.log)")
            let table = try await fixture.table()
            XCTAssertEqual(table.weights[web2], 16, "\(name): the running table stays")
            // Reset the reason with a good reload so the next case is seen on its own.
            unlink(fixture.configPath)
            try fixture.writeConfiguration(good)
            fixture.signal(SIGHUP)
            let cleared = await waitUntil(timeout: .seconds(10)) { (try? await self.fixture.status())?.director.reloadError == nil }
            XCTAssertTrue(cleared, "\(name): the SIGHUP after it works: \(fixture.log)")
        }
        XCTAssertTrue(fixture.log.contains("set `active = 0` on each virtual server"), fixture.log)
        // After all of it a change still applies.
        try fixture.writeConfiguration(fixture.configuration(web2Weight: 24))
        fixture.signal(SIGHUP)
        let applied = await waitUntil(timeout: .seconds(10)) { (try? await self.fixture.table())?.weights[web2] == 24 }
        XCTAssertTrue(applied, fixture.log)
    }

    func testHalfClosedClientsHTTP09AndADamagedOverridesFile() async throws {
        try fixture.writeConfiguration(fixture.configuration())
        try FileManager.default.createDirectory(atPath: fixture.stateDirectory, withIntermediateDirectories: true)
        // 0 bytes, as after a full disk: the director starts anyway and says so.
        XCTAssertTrue(FileManager.default.createFile(atPath: fixture.stateDirectory + "/overrides.json", contents: Data()))
        try await fixture.start()
        let status = try await fixture.status()
        XCTAssertTrue(status.director.overridesProblem?.contains("it is empty (0 bytes") == true, "\(status.director)")
        XCTAssertTrue(status.director.overridesProblem?.contains("started with NO overrides") == true, "\(status.director)")

        // A control client that half-closes after its line (nc -N, socat) gets its answer, and its drain ran.
        let control = try shell(
            "/usr/bin/python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
                + "s.sendall(b\"{\\\"command\\\":\\\"override\\\",\\\"action\\\":\\\"drain\\\",\\\"virtual\\\":\\\"web\\\",\\\"address\\\":\\\"127.0.0.2\\\"}\\n\"); "
                + "s.shutdown(socket.SHUT_WR); d=b\"\"\nwhile True:\n  c=s.recv(4096)\n  if not c: break\n  d+=c\nprint(d.decode())' "
                + DaemonFixture.quote(fixture.socket))
        XCTAssertTrue(control.output.contains(#""ok":true"#), control.output)
        XCTAssertTrue(control.output.contains("drain (until up)"), control.output)
        let drained = try await fixture.status()
        XCTAssertEqual(drained.server("web", "web1")?.override, "drain")

        // HTTP/0.9 (no version, no headers) and garbage: one response each.
        for request in [#"GET /metrics\r\n"#, #"GET /metrics\r\n\r\n"#, #"GARBAGE\r\n\r\n"#, #"GET /metrics HTTP/1.0\r\n\r\n"#] {
            let answer = try fixture.inNamespace(
                "/usr/bin/python3 -c 'import socket,sys; s=socket.create_connection((\"127.0.0.1\",\(fixture.metricsPort))); "
                    + "s.sendall(sys.argv[1].encode().decode(\"unicode_escape\").encode()); s.shutdown(socket.SHUT_WR); "
                    + "d=b\"\"\nwhile True:\n  c=s.recv(65536)\n  if not c: break\n  d+=c\n"
                    + "print(sum(1 for l in d.split(b\"\\r\\n\") if l.startswith(b\"HTTP/1.\")), d[:40])' '\(request)'")
            XCTAssertTrue(answer.output.hasPrefix("1 "), "\(request): \(answer.output)")
        }
    }
}
