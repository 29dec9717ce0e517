import AgentWire
#if canImport(Glibc)
import Glibc
#endif
import LoadFeedback
import NIOCore
import XCTest

/// The agent client against a real HTTP server on 127.0.0.1. ``fetch(_:expectedServer:)`` asks with and without a
/// connection pool at once: the outcome must be the same.
final class AgentClientTests: XCTestCase {
    static let goodJSON = """
        {"server":"web1","time":1700000000,"age":12,"stale":false,"load":0.42,"version":"2.1",\
        "metrics":{"load1":1.68,"load5":1.2,"load15":1.1,"cpus":4,"cpu_util":0.4,"mem_used":1000000000,\
        "mem_available":3000000000,"tcp_established":120,"busy_workers":null,"future_metric":7}}
        """

    static let configuration = AgentClient.Configuration(
        connectTimeout: .milliseconds(500), deadline: .seconds(2), maximumSize: 4096)
    let client = AgentClient(configuration: configuration)
    let pooled = AgentClient(configuration: configuration, pool: AgentConnectionPool())

    func fetch(_ behaviour: TestAgentServer.Behaviour, expectedServer: String? = nil) async throws -> LoadReading {
        let server = try await TestAgentServer.start(behaviour)
        let target = AgentClient.Target(host: "127.0.0.1", port: server.port, expectedServer: expectedServer)
        let (client, pooled) = (self.client, self.pooled)
        async let plain = client.fetch(target)
        async let kept = pooled.fetch(target)
        let (reading, pooledReading) = await (plain, kept)
        try await server.stop()
        XCTAssertEqual(reading.failure, pooledReading.failure, "with a connection pool")
        XCTAssertEqual(reading.loadValue, pooledReading.loadValue, "with a connection pool")
        return reading
    }

    /// Fetches `json` from web1's agent, with the instants just before and after.
    func fetchTimed(_ json: String) async throws -> (LoadReading, before: NIODeadline, after: NIODeadline, TestAgentServer) {
        let server = try await TestAgentServer.start(TestAgentServer.ok(json))
        let before = NIODeadline.now()
        let reading = await client.fetch(.init(host: "127.0.0.1", port: server.port, expectedServer: "web1"))
        let after = NIODeadline.now()
        try await server.stop()
        return (reading, before, after, server)
    }

    func testGoodReportGivesTheLoadPerCPUMeasuredAgeSecondsAgo() async throws {
        let (reading, before, after, server) = try await fetchTimed(Self.goodJSON)
        guard case .load(let load, let at, _, _) = reading else { return XCTFail("\(reading)") }
        XCTAssertEqual(load, 0.42)
        XCTAssertTrue(at >= before - .seconds(12) && at <= after - .seconds(12), "sample instant not now - age")
        let request = try XCTUnwrap(server.requests.first)
        XCTAssertTrue(request.hasPrefix("GET /load.json HTTP/1.1\r\n"), request)
        XCTAssertTrue(request.contains("Host: 127.0.0.1:\(server.port)\r\n"), request)
    }

    func testALiveFigureIsTakenAtReceiveTime() async throws {
        let (reading, before, after, _) = try await fetchTimed(AgentLoadReportTests.liveJSON)
        guard case .load(let figure, let at, let signal, _) = reading else { return XCTFail("\(reading)") }
        XCTAssertEqual(figure, 0.83)
        XCTAssertEqual(signal, .live(window: .seconds(10)))
        XCTAssertTrue(at >= before && at <= after, "a live figure is measured when the agent answers")
    }

    func testBodyDelimitedByCloseIsRead() async throws {
        let answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n\(Self.goodJSON)"
        let reading = try await fetch(.answer(answer))
        XCTAssertEqual(reading.loadValue, 0.42)
    }

    func testStaleFlagIsAFailure() async throws {
        let json = #"{"server":"web1","time":1700000000,"age":300,"stale":true,"load":0.42}"#
        let result = try await fetch(TestAgentServer.ok(json))
        XCTAssertEqual(result, .failed(.stale(ageSeconds: 300)))
    }

    func testOldSampleIsStaleEvenWithoutTheFlag() async throws {
        let json = #"{"server":"web1","time":1700000000,"age":400,"stale":false,"load":0.42}"#
        let result = try await fetch(TestAgentServer.ok(json))
        XCTAssertEqual(result, .failed(.stale(ageSeconds: 400)))
    }

    func testGarbageBodyIsMalformed() async throws {
        let result = try await fetch(TestAgentServer.ok("<html>It works!</html>")).failure?.kind
        XCTAssertEqual(result, "malformed")
    }

    func testWrongTypesAreMalformed() async throws {
        let json = #"{"server":"web1","time":1700000000,"age":1,"stale":false,"load":"high"}"#
        let failure = try await fetch(TestAgentServer.ok(json)).failure
        XCTAssertEqual(failure?.kind, "malformed")
        XCTAssertTrue("\(failure!)".contains("load"), "\(failure!)")
    }

    func testNullLoadSaysTheAgentHasNoFigure() async throws {
        let json = #"{"server":"web1","time":1700000000,"age":1,"stale":false,"load":null,"metrics":{"cpus":null}}"#
        let result = try await fetch(TestAgentServer.ok(json))
        XCTAssertEqual(result, .failed(.malformed("the agent has no load figure (unknown load average or CPU count)")))
    }

    func testMissingLoadIsMalformed() async throws {
        let json = #"{"server":"web1","time":1700000000,"age":1,"stale":false}"#
        let result = try await fetch(TestAgentServer.ok(json)).failure?.kind
        XCTAssertEqual(result, "malformed")
    }

    func testImplausibleLoadsAreFailures() async throws {
        for load in ["-0.5", "1e9"] {
            let json = #"{"server":"web1","time":1700000000,"age":1,"stale":false,"load":\#(load)}"#
            let result = try await fetch(TestAgentServer.ok(json)).failure?.kind
            XCTAssertEqual(result, "implausible", load)
        }
    }

    func testTruncatedJSONIsMalformed() async throws {
        let cut = String(Self.goodJSON.prefix(60))
        let failure = try await fetch(TestAgentServer.ok(cut)).failure
        XCTAssertEqual(failure?.kind, "malformed")
        XCTAssertTrue("\(failure!)".contains("truncated"), "\(failure!)")
    }

    func testBodyShorterThanContentLengthIsMalformed() async throws {
        let answer = "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n" + String(Self.goodJSON.prefix(60))
        let result = try await fetch(.answer(answer)).failure?.kind
        XCTAssertEqual(result, "malformed")
    }

    func testNotHTTPIsMalformed() async throws {
        let result = try await fetch(.answer("SSH-2.0-OpenSSH_9.2\r\n")).failure?.kind
        XCTAssertEqual(result, "malformed")
    }

    func testOversizedAnswerIsRefusedByContentLength() async throws {
        let big = String(repeating: " ", count: 10_000) + Self.goodJSON
        let result = try await fetch(TestAgentServer.ok(big))
        XCTAssertEqual(result, .failed(.tooLarge(limit: 4096)))
    }

    func testOversizedAnswerWithoutContentLengthIsCutOff() async throws {
        let big = String(repeating: " ", count: 10_000) + Self.goodJSON
        let answer = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n\(big)"
        let result = try await fetch(.answer(answer))
        XCTAssertEqual(result, .failed(.tooLarge(limit: 4096)))
    }

    func testHTTPErrorStatusIsAFailure() async throws {
        let json = #"{"server":"web1","error":"no sample yet"}"#
        let result = try await fetch(TestAgentServer.ok(json, status: "503 Service Unavailable"))
        XCTAssertEqual(result, .failed(.httpStatus(503, detail: "no sample yet")))
        let text = try await fetch(TestAgentServer.ok("not found; try /load\nmore\n", status: "404 Not Found"))
        XCTAssertEqual(text, .failed(.httpStatus(404, detail: "not found; try /load")))
    }

    func testSilentAgentTimesOut() async throws {
        let result = try await fetch(.silent)
        XCTAssertEqual(result, .failed(.timedOut(.seconds(2))))
    }

    func testAnswerSlowerThanTheDeadlineTimesOut() async throws {
        let body = Self.goodJSON
        let head = "HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
        let reading = try await fetch(.answerSlowly(head: head, rest: body, delay: .seconds(10)))
        XCTAssertEqual(reading, .failed(.timedOut(.seconds(2))))
    }

    func testConnectionRefusedIsUnreachable() async throws {
        let port = try await TestAgentServer.closedPort()
        for client in [client, pooled] {
            let reading = await client.fetch(.init(host: "127.0.0.1", port: port))
            guard case .failed(.unreachable(let why)) = reading else { return XCTFail("\(reading)") }
            XCTAssertTrue(why.contains("refused"), why)
        }
    }

    func testAnswerFromAnotherServerIsRejected() async throws {
        let reading = try await fetch(TestAgentServer.ok(Self.goodJSON), expectedServer: "web2")
        XCTAssertEqual(reading, .failed(.wrongServer(expected: "web2", got: "web1")))
    }

    func testManyAgentsAreAskedConcurrentlyAndEachGetsItsAnswer() async throws {
        let good = try await TestAgentServer.start(TestAgentServer.ok(Self.goodJSON))
        let silent = try await TestAgentServer.start(.silent)
        let refused = try await TestAgentServer.closedPort()
        let targets = [good.port, silent.port, refused].map { AgentClient.Target(host: "127.0.0.1", port: $0) }
        let (client, pooled) = (self.client, self.pooled)
        async let plain = client.fetch(targets)
        async let kept = pooled.fetch(targets)
        let (first, second) = await (plain, kept)
        try await good.stop()
        try await silent.stop()
        for readings in [first, second] {
            XCTAssertEqual(readings[targets[0]]?.loadValue, 0.42)
            XCTAssertEqual(readings[targets[1]], .failed(.timedOut(.seconds(2))))
            XCTAssertEqual(readings[targets[2]]?.failure?.kind, "unreachable")
        }
    }
}

extension LoadReading {
    var loadValue: Double? {
        if case .load(let value, _, _, _) = self { return value }
        return nil
    }
}

extension AgentClientTests {
    /// A listener whose accept queue is full drops new SYNs: the connect hangs, and the connect timeout (shorter
    /// than the deadline) ends it.
    func testConnectTimeoutIsShorterThanTheDeadline() async throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(listener, 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(bound, 0)
        XCTAssertEqual(listen(listener, 0), 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        // Fill the accept queue with connections nobody accepts.
        let target = AgentClient.Target(host: "127.0.0.1", port: port)
        let filler = AgentClient(configuration: .init(connectTimeout: .milliseconds(300), deadline: .milliseconds(300)))
        for _ in 0..<3 { _ = await filler.fetch(target) }
        let reading = await client.fetch(target)
        XCTAssertEqual(reading, .failed(.timedOut(.milliseconds(500))))
    }
}
