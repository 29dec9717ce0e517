import IPVS
import NIOCore
import XCTest

@testable import Director

final class StatusReportInputsTests: XCTestCase {
    /// The report is a function of what the core gathered: the same inputs give the same report, and every age is
    /// taken at the inputs' instant.
    func testTheReportIsAPureFunctionOfItsInputs() throws {
        let runtime = try RuntimeConfiguration.make(
            TestConfigurations.parse(TestConfigurations.web), file: "test.cf", localAddresses: [:]
        ).get()
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var model = DirectorModel(configuration: runtime.configuration, now: start)
        model.roleChanged(to: .active, reason: "standalone", now: start + .seconds(2))
        var inputs = StatusReport.Inputs(
            model: model, runtime: runtime, now: start + .seconds(7), configLoadedAt: start, reloadError: nil,
            overridesProblem: nil, unmatchedOverrides: [], backend: "memory", reconcile: ReconcileState(),
            settingsFailures: 0, lastSettingsError: nil, heartbeat: nil, lastChecks: [:], pid: 42)
        let report = StatusReport(inputs)
        XCTAssertEqual(report, StatusReport(inputs), "same inputs, same report")
        XCTAssertEqual(report.director.role, "active")
        XCTAssertEqual(report.director.roleAgeSeconds, 5)
        XCTAssertEqual(report.director.configAgeSeconds, 7)
        XCTAssertEqual(report.director.pid, 42)
        XCTAssertTrue(report.director.standalone)
        XCTAssertEqual(report.ipvs.backend, "memory")
        let web = try XCTUnwrap(report.virtuals.first { $0.name == "web" })
        XCTAssertEqual(web.servers.map(\.name), ["web1", "web2"], "active servers only")
        XCTAssertEqual(web.servers.map(\.health), ["unknown", "unknown"])
        XCTAssertEqual(web.servers.map(\.inTable), [true, true], "\(web.servers.map(\.reason))")

        inputs.now = start + .seconds(9)
        XCTAssertEqual(StatusReport(inputs).director.roleAgeSeconds, 7)
        inputs.model.roleStopped(now: start + .seconds(9))
        XCTAssertEqual(StatusReport(inputs).director.role, "stopped")
    }
}
