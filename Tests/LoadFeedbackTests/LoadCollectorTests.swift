import LoadFeedback
import XCTest

final class LoadCollectorTests: XCTestCase {
    func testAgentSourceAsksEachServersAgent() async throws {
        let agent = try await TestAgentServer.start(TestAgentServer.ok(AgentClientTests.goodJSON))
        let refused = try await TestAgentServer.closedPort()
        let collector = LoadCollector(source: .agent(.cpu))
        let readings = await collector.collect([
            "web1": .init(address: "127.0.0.1", agentPort: agent.port, serverID: "web1"),
            "web2": .init(address: "127.0.0.1", agentPort: refused),
        ])
        try await agent.stop()
        XCTAssertEqual(readings["web1"]?.loadValue, 0.42)
        XCTAssertEqual(readings["web2"]?.failure?.kind, "unreachable")
    }

    func testProgramSourceRunsTheProgramWithEachAddress() async throws {
        let scripts = try ScriptDirectory()
        defer { scripts.remove() }
        let path = try scripts.script("load", #"case "$1" in 10.0.0.1) echo 0.25 ;; *) echo "load average: 1.5, 1, 1" ;; esac"#)
        let collector = LoadCollector(source: try LoadSource(loadMonitor: path))
        let readings = await collector.collect([
            1: .init(address: "10.0.0.1", agentPort: 0), 2: .init(address: "10.0.0.2", agentPort: 0),
        ])
        XCTAssertEqual(readings[1]?.loadValue, 0.25)
        XCTAssertEqual(readings[2]?.loadValue, 1.5)
    }

    func testNoSourceGivesNoReadings() async {
        let readings = await LoadCollector(source: .none).collect(["a": .init(address: "10.0.0.1", agentPort: 1)])
        XCTAssertTrue(readings.isEmpty)
    }
}
