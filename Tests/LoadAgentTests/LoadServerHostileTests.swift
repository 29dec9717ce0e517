import Foundation
import XCTest

@testable import LoadAgent

/// The attacks that blinded the agent (issue: hostile input): graph floods, symlinks out of the state directory,
/// and error answers that showed absolute paths.
extension LoadServerTests {
    func testAFloodOfYearLongGraphsIsBoundedAndLoadJSONIsAnsweredThroughIt() async throws {
        try sample(at: now)
        try await startServer(maxSlowRequests: 1)
        let graph = "http://127.0.0.1:\(port)/graph/load.png?period=year&width=2000&height=1000"
        var arguments = ["-s", "--parallel", "--parallel-immediate", "--parallel-max", "32", "--max-time", "60"]
        for _ in 0..<32 { arguments += ["-o", "/dev/null", "-w", "%{http_code}\n", graph] }
        // The flood runs in the background while /load.json is asked for.
        let flood = Process()
        flood.executableURL = URL(fileURLWithPath: curl)
        flood.arguments = arguments
        let output = Pipe()
        flood.standardOutput = output
        try flood.run()
        var loads: [Int] = []
        while flood.isRunning, loads.count < 20 {
            loads.append(try get("/load.json").status)
        }
        let codes = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        flood.waitUntilExit()
        XCTAssertEqual(codes.count, 32)
        XCTAssertEqual(Set(codes).subtracting(["200", "503"]), [], "a graph is drawn or refused: \(codes)")
        XCTAssertGreaterThan(codes.filter { $0 == "503" }.count, 0, "past the limit graphs are refused, not queued: \(codes)")
        XCTAssertGreaterThan(codes.filter { $0 == "200" }.count, 0, "graphs within the limit are drawn: \(codes)")
        XCTAssertEqual(Set(loads), [200], "every /load.json during the flood was answered: \(loads)")
        let busy = try get("/graph/load.png")
        XCTAssertEqual(busy.status, 200, "once the flood is over graphs are drawn again")
    }

    func testNoPathFollowsASymlinkOutOfTheStateDirectoryAndErrorsShowNoAbsolutePath() async throws {
        try sample(at: now)
        // A real RRD file outside the directory, linked in under every metric's name.
        let outside = try TemporaryDirectory()
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".rrd") {
            try FileManager.default.moveItem(atPath: "\(directory.path)/\(name)", toPath: "\(outside.path)/\(name)")
            try FileManager.default.createSymbolicLink(atPath: "\(directory.path)/\(name)", withDestinationPath: "\(outside.path)/\(name)")
        }
        try await startServer()
        for path in ["/load", "/load.json", "/graph/load.png", "/graph/cpu.png?period=year", "/report", "/rrd/load.rrd"] {
            let answer = try get(path)
            XCTAssertNotEqual(answer.status, 200, "\(path) must not read through the link: \(answer.body)")
            XCTAssertFalse(answer.body.contains(directory.path), "\(path) shows the directory: \(answer.body)")
            XCTAssertFalse(answer.body.contains(outside.path), "\(path) shows the link's target: \(answer.body)")
            XCTAssertFalse(answer.body.contains("/tmp"), "\(path): \(answer.body)")
            XCTAssertEqual(answer.headers["x-server"], serverID, path)
        }
        XCTAssertTrue(try get("/load.json").body.contains("symbolic link"), "the answer says why")
    }

    func testAnErrorNamesTheFileNotItsAbsolutePath() {
        let error = AgentError.corruptRRD(path: "/var/lib/h2e/load.rrd", message: "bad")
        XCTAssertEqual(
            error.description(hiding: "/var/lib/h2e"),
            "load.rrd is not a usable h2e RRD file (bad); move it aside and run 'h2e-agent sample' to create a new one")
    }

    func testTheGateRefusesPastItsLimitAndCounts() {
        let gate = WorkGate(limit: 2)
        XCTAssertTrue(gate.enter())
        XCTAssertTrue(gate.enter())
        XCTAssertFalse(gate.enter())
        XCTAssertEqual(gate.refused, 1)
        gate.leave()
        XCTAssertTrue(gate.enter())
        XCTAssertTrue(Route.graph(.load, .year, width: 200, height: 100).isSlow)
        XCTAssertFalse(Route.loadJSON.isSlow)
    }
}
