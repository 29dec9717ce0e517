import LoadFeedback
import NIOCore
import XCTest

/// Keep-alive fetches against test servers that count their connections.
final class AgentConnectionPoolTests: XCTestCase {
    let pool = AgentConnectionPool()

    func client(deadline: TimeAmount = .seconds(2), pooled: Bool = true) -> AgentClient {
        AgentClient(
            configuration: .init(connectTimeout: .milliseconds(500), deadline: deadline, maximumSize: 4096),
            pool: pooled ? pool : nil)
    }

    static func keepAlive(
        status: String = "HTTP/1.1 200 OK", headers: String = "", later: TestAgentServer.Later = .answer,
        idleClose: TimeAmount? = nil
    ) -> TestAgentServer.Behaviour {
        .keepAlive(body: AgentClientTests.goodJSON, status: status, headers: headers, later: later, idleClose: idleClose)
    }

    /// Fetches `count` times in a row from a server behaving as `behaviour`; the readings and the server.
    func fetch(
        _ count: Int, from behaviour: TestAgentServer.Behaviour, client: AgentClient? = nil,
        between: (() async throws -> Void)? = nil
    ) async throws -> ([LoadReading], TestAgentServer) {
        let server = try await TestAgentServer.start(behaviour)
        let client = client ?? self.client()
        var readings: [LoadReading] = []
        for index in 0..<count {
            if index > 0, let between { try await between() }
            readings.append(await client.fetch(.init(host: "127.0.0.1", port: server.port, expectedServer: "web1")))
        }
        try await server.stop()
        return (readings, server)
    }

    /// Waits until `condition` holds, at most `timeout`.
    func wait(_ what: String, timeout: Duration = .seconds(5), _ condition: () -> Bool) async throws {
        let clock = ContinuousClock()
        let end = clock.now + timeout
        while !condition() {
            guard clock.now < end else { return XCTFail("still not \(what) after \(timeout)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func testTwoFetchesReuseOneConnection() async throws {
        let (readings, server) = try await fetch(3, from: Self.keepAlive())
        XCTAssertEqual(readings.map(\.loadValue), [0.42, 0.42, 0.42])
        XCTAssertEqual(server.accepted, 1)
        XCTAssertEqual(server.requests.count, 3)
        XCTAssertFalse(server.requests.contains { $0.contains("Connection: close") }, "\(server.requests)")
        XCTAssertEqual(pool.idleCount, 1)
    }

    func testWithoutAPoolEveryFetchHasItsOwnConnection() async throws {
        let (readings, server) = try await fetch(2, from: Self.keepAlive(), client: client(pooled: false))
        XCTAssertEqual(readings.map(\.loadValue), [0.42, 0.42])
        XCTAssertEqual(server.accepted, 2)
        XCTAssertTrue(server.requests.allSatisfy { $0.contains("Connection: close\r\n") }, "\(server.requests)")
    }

    /// The agent's idle timeout fires just as the next request comes: closed without an answer, so the fetch asks
    /// again on a new connection.
    func testAKeptConnectionClosedBeforeTheAnswerIsRetriedOnANewOne() async throws {
        let (readings, server) = try await fetch(2, from: Self.keepAlive(later: .close))
        XCTAssertEqual(readings.map(\.loadValue), [0.42, 0.42])
        XCTAssertEqual(server.accepted, 2)
    }

    func testAConnectionTheAgentClosesWhileIdleIsForgotten() async throws {
        let (readings, server) = try await fetch(2, from: Self.keepAlive(idleClose: .milliseconds(50))) {
            try await self.wait("forgotten") { self.pool.idleCount == 0 }
        }
        XCTAssertEqual(readings.map(\.loadValue), [0.42, 0.42])
        XCTAssertEqual(server.accepted, 2)
    }

    /// A hanging agent ends at the deadline, kept connection or not, and is not asked again.
    func testAnAgentHangingOnTheKeptConnectionTimesOut() async throws {
        let (readings, server) = try await fetch(
            2, from: Self.keepAlive(later: .ignore), client: client(deadline: .milliseconds(500)))
        XCTAssertEqual(readings.map(\.loadValue), [0.42, nil])
        XCTAssertEqual(readings.last, .failed(.timedOut(.milliseconds(500))))
        XCTAssertEqual(server.accepted, 1)
        XCTAssertEqual(pool.idleCount, 0)
    }

    func testConnectionCloseOrHTTP10IsNotReused() async throws {
        for behaviour in [Self.keepAlive(headers: "Connection: close\r\n"), Self.keepAlive(status: "HTTP/1.0 200 OK")] {
            let (readings, server) = try await fetch(2, from: behaviour)
            XCTAssertEqual(readings.map(\.loadValue), [0.42, 0.42])
            XCTAssertEqual(server.accepted, 2, "\(behaviour)")
            try await wait("closed") { server.closed == 2 }
            XCTAssertEqual(pool.idleCount, 0)
        }
    }

    func testAnErrorAnswerIsNotKept() async throws {
        let (readings, server) = try await fetch(2, from: Self.keepAlive(status: "HTTP/1.1 503 Service Unavailable"))
        XCTAssertEqual(readings.map(\.failure?.kind), ["http_status", "http_status"])
        XCTAssertEqual(server.accepted, 2)
    }

    func testPruneClosesConnectionsIdleTooLongOrToServersThatLeft() async throws {
        let first = try await TestAgentServer.start(Self.keepAlive())
        let second = try await TestAgentServer.start(Self.keepAlive())
        defer { Task { [first, second] in try await first.stop(); try await second.stop() } }
        let keys = [first, second].map { AgentConnectionPool.Key(host: "127.0.0.1", port: $0.port) }
        let readings = await client().fetch(keys.map { .init(host: $0.host, port: $0.port) })
        XCTAssertEqual(readings.values.map(\.loadValue), [0.42, 0.42])
        XCTAssertEqual(pool.idleCount, 2)

        pool.prune(keeping: [keys[0]], idleLimit: .seconds(6))
        try await wait("closed") { second.closed == 1 }
        XCTAssertEqual(first.closed, 0)
        pool.prune(keeping: [keys[0]], idleLimit: .seconds(6), now: .now() + .seconds(7))
        try await wait("closed") { first.closed == 1 }
        XCTAssertEqual(pool.idleCount, 0)
    }

    func testCloseAllClosesEveryIdleConnectionAndKeepsNoneAfterwards() async throws {
        let server = try await TestAgentServer.start(Self.keepAlive())
        let target = AgentClient.Target(host: "127.0.0.1", port: server.port)
        _ = await client().fetch(target)
        pool.closeAll()
        try await wait("closed") { server.closed == 1 }
        let after = await client().fetch(target)
        XCTAssertEqual(after.loadValue, 0.42)
        try await wait("closed") { server.closed == 2 }
        XCTAssertEqual(pool.idleCount, 0)
        try await server.stop()
    }
}
