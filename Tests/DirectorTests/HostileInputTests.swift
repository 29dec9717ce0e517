import Addressing
import Foundation
import HealthCheck
import IPVS
import LVSConfig
import XCTest

@testable import Director

/// Overrides that say the truth, reloads that refuse to empty the table, the status JSON's nulls, the failover
/// counter, the descriptor budget (issue 15, items 4, 6, 7).
final class HostileInputTests: XCTestCase {
    var directory = ""

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("h2e-hostile-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func runtime(_ text: String = TestConfigurations.web) throws -> RuntimeConfiguration {
        try RuntimeConfiguration.make(TestConfigurations.parse(text), file: "test.cf", localAddresses: [:]).get()
    }

    let drained = [OverrideKey(virtual: "web", address: "10.0.0.2"): DirectorModel.OverrideRecord(action: .drain, setAt: 1)]

    func testADamagedOverridesFileFallsBackToTheLastGoodCopyAndSaysSo() throws {
        let store = OverrideStore(directory: directory)
        try store.save(drained)
        XCTAssertEqual(try OverrideStore.read(store.lastGoodPath), drained, "each save refreshes the last good copy")
        let damages: [(String, () throws -> Void, String)] = [
            ("0 bytes", { try Data().write(to: URL(fileURLWithPath: store.path)) }, "it is empty (0 bytes"),
            ("garbage", { try Data("{\"overr".utf8).write(to: URL(fileURLWithPath: store.path)) }, "not JSON"),
            ("version 2", {
                try Data(#"{"version":2,"overrides":[]}"#.utf8).write(to: URL(fileURLWithPath: store.path))
            }, "version 2; this h2e-director reads version 1"),
            ("dangling symlink", {
                try FileManager.default.createSymbolicLink(atPath: store.path, withDestinationPath: self.directory + "/gone")
            }, "a dangling symbolic link"),
            ("FIFO", { XCTAssertEqual(mkfifo(store.path, 0o600), 0) }, "it is a FIFO (named pipe), not a regular file"),
        ]
        for (name, damage, expected) in damages {
            unlink(store.path)
            unlink(store.damagedPath)
            try damage()
            XCTAssertThrowsError(try store.load(), name) { XCTAssertTrue("\($0)".contains(expected), "\(name): \($0)") }
            let recovery = store.loadForStart()
            XCTAssertEqual(recovery.overrides, drained, name)
            XCTAssertEqual(recovery.problems.count, 1, name)
            XCTAssertTrue(recovery.problems[0].contains(expected), "\(name): \(recovery.problems)")
            XCTAssertTrue(recovery.problems[0].contains("started from the last good copy"), "\(name): \(recovery.problems)")
            XCTAssertEqual(access(store.path, F_OK), -1, "\(name): moved aside")
        }
        // Without a last good copy: no overrides, said as loudly.
        unlink(store.lastGoodPath)
        try Data().write(to: URL(fileURLWithPath: store.path))
        let none = store.loadForStart()
        XCTAssertEqual(none.overrides, [:])
        XCTAssertTrue(none.problems[0].contains("started with NO overrides"), "\(none.problems)")
        // An absent file is no problem.
        unlink(store.path)
        XCTAssertEqual(store.loadForStart(), OverrideStore.Recovery(overrides: [:], problems: []))
    }

    func testAnOverrideThatCannotBeSavedIsNotAppliedAndTheMessageSaysSo() async throws {
        // A state directory that is a regular file: nothing can be written under it (even by root).
        let blocked = directory + "/file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocked))
        let kernel = InMemoryIPVSKernel()
        let core = DirectorCore(runtime: try runtime(), kernel: kernel, store: OverrideStore(directory: blocked))
        await core.reconcile()
        do {
            _ = try await core.override(.drain, virtual: "web", address: "10.0.0.2")
            XCTFail("an unsaved override was reported applied")
        } catch {
            XCTAssertTrue("\(error)".contains("the override was NOT applied"), "\(error)")
            XCTAssertFalse("\(error)".contains("holds until"), "\(error)")
        }
        let overrides = await core.model.overrides
        XCTAssertEqual(overrides, [:])
        let weight = await kernel.current[.address(.tcp, IPAddress("10.0.0.10")!, port: 80)]?.destinations
            .first { $0.id.description == "10.0.0.2:80" }?.weight
        XCTAssertEqual(weight, 32, "the table is unchanged")
    }

    func testOverridesMatchingNoServerAreReportedAndKept() async throws {
        let stray = OverrideKey(virtual: "gone", address: "10.9.9.9")
        let overrides = drained.merging([stray: .init(action: .down, setAt: 2)]) { $1 }
        let core = DirectorCore(
            runtime: try runtime(), kernel: InMemoryIPVSKernel(), overrides: overrides,
            overridesProblem: "overrides.json was damaged")
        let status = await core.status()
        XCTAssertEqual(status.director.unmatchedOverrides, ["gone 10.9.9.9"])
        XCTAssertEqual(status.director.overridesProblem, "overrides.json was damaged")
        let kept = await core.model.overrides
        XCTAssertEqual(kept[stray]?.action, .down, "kept, not dropped")
        let message = try await core.override(.clear, virtual: "gone", address: "10.9.9.9")
        XCTAssertEqual(message, "gone 10.9.9.9: cleared (it matched no real server)")
        let unmatched = await core.unmatchedOverrides
        XCTAssertEqual(unmatched, [])
    }

    func testStatusJSONHasEveryOptionalFieldAsExplicitNull() async throws {
        let core = DirectorCore(runtime: try runtime(), kernel: InMemoryIPVSKernel())
        await core.reconcile()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(await core.status())
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let director = try XCTUnwrap(json["director"] as? [String: Any])
        for key in ["peer", "reloadError", "configuredRole", "overridesProblem"] {
            XCTAssertTrue(director[key] is NSNull, "director.\(key): \(String(describing: director[key]))")
        }
        let ipvs = try XCTUnwrap(json["ipvs"] as? [String: Any])
        XCTAssertTrue(ipvs["lastError"] is NSNull)
        let server = try XCTUnwrap(((json["virtuals"] as? [[String: Any]])?.first?["servers"] as? [[String: Any]])?.first)
        for key in ["override", "overrideSince", "healthDetail", "load", "loadError", "agentURL", "lastCheck"] {
            XCTAssertTrue(server[key] is NSNull, "server.\(key): \(String(describing: server[key]))")
        }
        // And it still decodes (the client reads it back).
        XCTAssertEqual(try JSONDecoder().decode(StatusReport.self, from: data).director.pid, getpid())
    }

    func testFailoversCountOnlyTakeovers() {
        var model = DirectorModel(configuration: TestConfigurations.parse(TestConfigurations.web), now: .uptimeNanoseconds(0))
        model.roleChanged(to: .backup, reason: "starting", now: .uptimeNanoseconds(1))
        // A primary that never heard its peer becomes active after deadtime: no takeover.
        model.roleChanged(to: .active, reason: "no heartbeat", now: .uptimeNanoseconds(2), takeover: false)
        XCTAssertEqual(model.failovers, 0)
        model.roleChanged(to: .backup, reason: "the peer outranks", now: .uptimeNanoseconds(3))
        model.roleChanged(to: .active, reason: "peer dead", now: .uptimeNanoseconds(4))
        XCTAssertEqual(model.failovers, 2)
    }

    func testAReloadDeclaringNoVirtualServerIsRefusedUnlessNothingRuns() throws {
        for text in ["", "# nothing but comments\n# here\n", "network = direct\nservice = lvs\n"] {
            let configuration = try XCTUnwrap(LVSConfigParser.parse(text, file: "lvs.cf").configuration, text)
            let refusal = try XCTUnwrap(ReloadService.refusal(of: configuration, file: "lvs.cf", runningActive: 2))
            XCTAssertTrue(refusal.contains("reload refused"), refusal)
            XCTAssertTrue(refusal.contains("set `active = 0` on each virtual server"), refusal)
            XCTAssertNil(ReloadService.refusal(of: configuration, file: "lvs.cf", runningActive: 0))
        }
        // Every virtual server present but inactive: the operator means it.
        let inactive = TestConfigurations.parse(TestConfigurations.web.replacing("active = 1\n    address = 10.0.0.1", with: "active = 0\n    address = 10.0.0.1"))
        XCTAssertNil(ReloadService.refusal(of: inactive, file: "lvs.cf", runningActive: 2))
    }

    func testTheDescriptorBudgetStaysWithinTheLimit() {
        for limit in [64, 256, 1_024, 65_536, 1 << 20] {
            let budget = DescriptorBudget(limit: limit, eventLoopThreads: 2, programThreads: 32, loadFeedbackServers: 10)
            XCTAssertGreaterThanOrEqual(budget.httpConnections, 4)
            XCTAssertLessThanOrEqual(budget.httpConnections, 256)
            XCTAssertLessThanOrEqual(budget.healthChecks, DescriptorBudget.maximumHealthChecks)
            if limit >= 256 {
                XCTAssertLessThanOrEqual(
                    budget.reserve + budget.httpConnections + budget.controlConnections + budget.healthChecks, limit,
                    "\(budget)")
            }
        }
    }
}

