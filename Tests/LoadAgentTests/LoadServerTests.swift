import Foundation
import Logging
import NIOCore
import XCTest
@testable import LoadAgent

/// The HTTP server exercised for real over loopback with curl and raw sockets.
final class LoadServerTests: XCTestCase {
    var server: LoadServer?
    var port = 0
    var curl = ""
    var directory: TemporaryDirectory!
    let serverID = "web-test-7"

    override func setUp() async throws {
        curl = try Tools.require("curl")
        directory = try TemporaryDirectory()
    }

    override func tearDown() async throws {
        try await server?.shutdown()
        server = nil
    }

    func startServer(
        maxConnections: Int = 256, requestTimeout: TimeAmount = .seconds(10), maxSlowRequests: Int = 16
    ) async throws {
        let configuration = LoadServer.Configuration(
            host: "127.0.0.1", port: 0, serverID: serverID, directory: directory.path, maxConnections: maxConnections,
            requestTimeout: requestTimeout, maxSlowRequests: maxSlowRequests)
        let server = try await LoadServer.start(configuration: configuration, logger: Logger(label: "test"))
        self.server = server
        port = try XCTUnwrap(server.localAddress?.port)
    }

    func sample(at now: Int, loadavg: String = ProcFixtures.loadavg) throws {
        try recordSample(into: directory, at: now, loadavg: loadavg)
    }

    var now: Int { Int(Date().timeIntervalSince1970) }

    func get(_ path: String, _ extra: [String] = []) throws -> CurlAnswer {
        let result = try Tools.run(curl, ["-s", "-i", "--path-as-is", "--max-time", "20"] + extra + ["http://127.0.0.1:\(port)\(path)"])
        return CurlAnswer(result.stdout)
    }

    func testEveryEndpointAnswersWithXServer() async throws {
        try sample(at: now)
        try await startServer()

        let load = try get("/load")
        XCTAssertEqual(load.status, 200)
        XCTAssertEqual(load.headers["x-server"], serverID)
        XCTAssertEqual(load.body, "0.420000\n")

        let json = try get("/load.json")
        XCTAssertEqual(json.status, 200)
        XCTAssertEqual(json.headers["x-server"], serverID)
        XCTAssertEqual(json.headers["content-type"], "application/json")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.body.utf8)) as? [String: Any])
        XCTAssertEqual(object["server"] as? String, serverID)
        XCTAssertEqual(object["load"] as? Double, 0.42)
        XCTAssertEqual(object["stale"] as? Bool, false)
        let metrics = try XCTUnwrap(object["metrics"] as? [String: Any])
        XCTAssertEqual(metrics["cpus"] as? Int, 2)
        XCTAssertEqual(metrics["tcp_established"] as? Int, 3)
        XCTAssertEqual(try XCTUnwrap(metrics["cpu_util"] as? Double), 0.4, accuracy: 1e-9)

        let report = try get("/report?period=hour")
        XCTAssertEqual(report.status, 200)
        XCTAssertEqual(report.headers["x-server"], serverID)
        XCTAssertTrue(report.body.contains("metric"), report.body)
        XCTAssertTrue(report.body.contains("tcp_established"), report.body)

        let raw = try Tools.run(curl, ["-s", "--max-time", "20", "-o", "\(directory.path)/copy", "http://127.0.0.1:\(port)/rrd/load.rrd"])
        XCTAssertEqual(raw.status, 0)
        XCTAssertEqual(
            FileManager.default.contents(atPath: "\(directory.path)/copy"),
            FileManager.default.contents(atPath: "\(directory.path)/load.rrd"))
        let rrdHead = try get("/rrd/load.rrd", ["-I"])
        XCTAssertEqual(rrdHead.headers["x-server"], serverID)

        let head = try get("/load", ["-I"])
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers["content-length"], "9")
        XCTAssertEqual(head.body, "")

        let index = try get("/")
        XCTAssertEqual(index.status, 200)
        XCTAssertEqual(index.headers["x-server"], serverID)

        for (path, status) in [("/nope", 404), ("/report?period=decade", 400), ("/graph/load.png?width=5", 400)] {
            let answer = try get(path)
            XCTAssertEqual(answer.status, status, path)
            XCTAssertEqual(answer.headers["x-server"], serverID, path)
        }
        let post = try get("/load", ["-X", "POST"])
        XCTAssertEqual(post.status, 405)
        XCTAssertEqual(post.headers["allow"], "GET, HEAD")
        XCTAssertEqual(post.headers["x-server"], serverID)
    }

    func testGraphIsAPNGOfTheRequestedSize() async throws {
        try sample(at: now - 120)
        try sample(at: now - 60, loadavg: "1.5 1 1 1/1 1")
        try sample(at: now, loadavg: "0.5 1 1 1/1 1")
        try await startServer()
        for (metric, period, width, height) in [("load", "hour", 500, 200), ("mem_used", "day", 320, 140), ("cpu_util", "year", 1200, 400)] {
            let file = "\(directory.path)/\(metric).png"
            let result = try Tools.run(
                curl, ["-s", "-D", "-", "-o", file, "--max-time", "30",
                       "http://127.0.0.1:\(port)/graph/\(metric).png?period=\(period)&width=\(width)&height=\(height)"])
            let answer = CurlAnswer(result.stdout)
            XCTAssertEqual(answer.status, 200, result.stdout)
            XCTAssertEqual(answer.headers["content-type"], "image/png")
            XCTAssertEqual(answer.headers["x-server"], serverID)
            let png = try XCTUnwrap(FileManager.default.contents(atPath: file))
            let bytes = [UInt8](png)
            XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
            XCTAssertEqual(String(decoding: bytes[12..<16], as: UTF8.self), "IHDR")
            func be32(_ i: Int) -> Int { bytes[i..<i + 4].reduce(0) { $0 << 8 | Int($1) } }
            XCTAssertEqual(be32(16), width, "IHDR width of \(metric)")
            XCTAssertEqual(be32(20), height, "IHDR height of \(metric)")
        }
    }

    func testStaleAndMissingSamplesAreNotWeighedBy() async throws {
        try await startServer()
        let none = try get("/load")
        XCTAssertEqual(none.status, 503)
        XCTAssertEqual(none.headers["x-server"], serverID)
        XCTAssertTrue(none.body.contains("no sample yet"), none.body)
        XCTAssertEqual(try get("/load.json").status, 503)
        XCTAssertEqual(try get("/graph/load.png").status, 503)

        try sample(at: now - 600)
        // /load and /load.json are rebuilt once a second.
        var stale = try get("/load")
        try waitUntil("the server sees the sample", timeout: 5) {
            stale = try get("/load")
            return stale.body.contains("stale")
        }
        XCTAssertEqual(stale.status, 503)
        XCTAssertEqual(stale.headers["x-server"], serverID)
        XCTAssertTrue(stale.body.contains("stale"), stale.body)
        let json = try get("/load.json")
        XCTAssertEqual(json.status, 200)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.body.utf8)) as? [String: Any])
        XCTAssertEqual(object["stale"] as? Bool, true)
        XCTAssertGreaterThan(try XCTUnwrap(object["age"] as? Int), 180)
        XCTAssertTrue(try get("/report").body.contains("STALE"))
    }

    func testARunningServerSeesANewSample() async throws {
        let first = now - 120
        try sample(at: first, loadavg: "1.00 1 1 1/1 1")
        try await startServer()
        let before = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try get("/load.json").body.utf8)) as? [String: Any])
        XCTAssertEqual(before["load"] as? Double, 0.5)
        try sample(at: now, loadavg: "3.00 1 1 1/1 1")
        // /load.json is rebuilt once a second: the new sample shows within about a second.
        var after: [String: Any] = [:]
        try waitUntil("the server sees the new sample", timeout: 5) {
            after = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try get("/load.json").body.utf8)) as? [String: Any])
            return after["load"] as? Double != 0.5
        }
        XCTAssertEqual(after["load"] as? Double, 1.5)
        XCTAssertGreaterThan(try XCTUnwrap(after["time"] as? Int), try XCTUnwrap(before["time"] as? Int))
        XCTAssertEqual(try get("/load").body, "1.500000\n")
    }

    func testTraversalIsRefused() async throws {
        try sample(at: now)
        try directory.write("secret.txt", "secret")
        // A symlink named like a metric file, pointing out of the directory.
        try FileManager.default.removeItem(atPath: "\(directory.path)/load5.rrd")
        try FileManager.default.createSymbolicLink(atPath: "\(directory.path)/load5.rrd", withDestinationPath: "/etc/passwd")
        try await startServer()
        for path in [
            "/rrd/../secret.txt", "/rrd/../../../../etc/passwd", "/rrd/%2e%2e/secret.txt", "/rrd/%2E%2E%2Fsecret.txt",
            "/rrd/..%2f..%2f..%2fetc%2fpasswd", "/rrd/%252e%252e%252fsecret.txt", "/rrd/secret.txt", "/rrd/cpu.state",
            "/rrd/load.rrd%00", "/graph/..%2fsecret.txt", "/../etc/passwd", "//etc/passwd", "/rrd/load5.rrd",
        ] {
            let answer = try get(path)
            XCTAssertTrue([400, 403, 404].contains(answer.status), "\(path): \(answer.status)")
            XCTAssertEqual(answer.headers["x-server"], serverID, path)
            XCTAssertFalse(answer.body.contains("root:") || answer.body.contains("secret"), path)
        }
    }

    func testMalformedAndOversizedRequestsGet400() async throws {
        try await startServer()
        func raw(_ text: String) throws -> String {
            let client = try RawClient(port: port)
            client.send(text)
            return client.readToEnd().text
        }
        let garbage = try raw("GARBAGE\r\n\r\n")
        XCTAssertTrue(garbage.hasPrefix("HTTP/1.1 400"), garbage)
        XCTAssertTrue(garbage.contains("X-SERVER: \(serverID)"), garbage)
        let binary = try raw("\u{01}\u{02}\u{03}\u{04} \u{7f}\r\n\r\n")
        XCTAssertTrue(binary.hasPrefix("HTTP/1.1 400"), binary)
        let longHeader = try raw("GET /load HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 20000))\r\n\r\n")
        XCTAssertTrue(longHeader.hasPrefix("HTTP/1.1 400"), String(longHeader.prefix(100)))
        XCTAssertTrue(longHeader.contains("X-SERVER: \(serverID)"))
        let longURI = try raw("GET /\(String(repeating: "a", count: 20000)) HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(longURI.hasPrefix("HTTP/1.1 400"), String(longURI.prefix(100)))
        let manyHeaders = try raw("GET /load HTTP/1.1\r\n" + (0..<200).map { "X-H\($0): v\r\n" }.joined() + "\r\n")
        XCTAssertTrue(manyHeaders.hasPrefix("HTTP/1.1 400"), String(manyHeaders.prefix(100)))
        XCTAssertTrue(manyHeaders.contains("X-SERVER: \(serverID)"))
        // The server still answers normally afterwards.
        XCTAssertEqual(try get("/load").headers["x-server"], serverID)
    }

    func testSlowAndIdleClientsAreDisconnectedWithoutStallingOthers() async throws {
        try sample(at: now)
        try await startServer(requestTimeout: .seconds(1))
        let idle = try RawClient(port: port, timeout: 8)
        let slow = try RawClient(port: port, timeout: 8)
        slow.send("GET /load HTTP/1.1\r\nHo")
        // Others are served meanwhile.
        XCTAssertEqual(try get("/load").status, 200)
        let start = Date()
        let idleEnd = idle.readToEnd()
        XCTAssertTrue(idleEnd.closed, "an idle client must be disconnected")
        let slowEnd = slow.readToEnd()
        XCTAssertTrue(slowEnd.closed, "a client that never finishes its request must be disconnected")
        XCTAssertLessThan(Date().timeIntervalSince(start), 7)
        XCTAssertEqual(slowEnd.text, "")

        // Keep-alive: after an answer the connection waits for the next request, then times out too.
        let keepAlive = try RawClient(port: port, timeout: 8)
        keepAlive.send("GET /load HTTP/1.1\r\nHost: x\r\n\r\n")
        let answer = keepAlive.readToEnd()
        XCTAssertTrue(answer.text.hasPrefix("HTTP/1.1 200"), answer.text)
        XCTAssertTrue(answer.closed)
    }

    func testAtTheConnectionLimitIdleConnectionsGiveWayToARequest() async throws {
        try sample(at: now)
        try await startServer(maxConnections: 3, requestTimeout: .seconds(30))
        // Three connections that never send a request (slowloris) fill the table.
        let held = try (0..<3).map { _ in try RawClient(port: port, timeout: 5) }
        for _ in 0..<5 {
            let answer = try get("/load")
            XCTAssertEqual(answer.status, 200, "a client with a request is served: \(answer.body)")
            XCTAssertEqual(answer.headers["x-server"], serverID)
        }
        // The longest-waiting idle connections were closed to make room.
        let closed = held.filter { client in
            client.setTimeout(1)
            return client.readToEnd().closed
        }
        XCTAssertGreaterThanOrEqual(closed.count, 1)
    }

    func testManyConcurrentClients() async throws {
        try sample(at: now)
        try await startServer()
        // Quick answers only: graphs and reports are bounded apart (testAFloodOfYearLongGraphs...).
        let paths = (0..<200).map { i in ["/load", "/load.json", "/", "/rrd/load.rrd"][i % 4] }
        var arguments = ["-s", "--parallel", "--parallel-immediate", "--parallel-max", "100", "--max-time", "60"]
        for path in paths {
            arguments += ["-o", "/dev/null", "-w", "%{http_code}\n", "http://127.0.0.1:\(port)\(path)"]
        }
        let result = try Tools.run(curl, arguments, timeout: 120)
        let codes = result.stdout.split(separator: "\n")
        XCTAssertEqual(codes.count, 200, result.stderr)
        XCTAssertEqual(codes.filter { $0 == "200" }.count, 200, result.stdout)
    }

    func testAClientThatDoesNotReadIsCutOff() async throws {
        let ss = try Tools.require("ss")
        try sample(at: now)
        try await startServer(requestTimeout: .seconds(1))
        let rrdSize = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: "\(directory.path)/load.rrd")[.size] as? Int)
        let client = try RawClient(port: port, timeout: 5, receiveBuffer: 4096)
        // 200 pipelined requests for 75 kB each, never read while the server works.
        client.send(String(repeating: "GET /rrd/load.rrd HTTP/1.1\r\nHost: x\r\n\r\n", count: 200))
        try waitUntil("the server drops the connection", timeout: 15) {
            let out = try Tools.run(ss, ["-Htn", "state", "established", "( sport = :\(port) )"]).stdout
            return out.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        }
        // Others are still served.
        XCTAssertEqual(try get("/load").status, 200)
        let received = client.readToEnd()
        XCTAssertTrue(received.closed)
        XCTAssertLessThan(received.text.utf8.count, 200 * rrdSize, "the connection was cut before all answers")
        XCTAssertTrue(received.text.hasPrefix("HTTP/1.1 200"))
    }
}
