import Addressing
import HealthCheck
import IPVS
import LVSConfig
import LoadFeedback
import NIOCore
import XCTest

@testable import Director

/// The overload guard (``PanicState``): when more than half of a virtual server's real servers fail their checks, the
/// ones that time out stay in the table at their lowest load weight; refused ones go; the rest is as before.
final class PanicTests: XCTestCase {
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
    func at(_ seconds: Int64) -> NIODeadline { t0 + .seconds(seconds) }
    func id(_ server: String) -> RealServerID { RealServerID(virtual: "web", server: server) }

    /// Three real servers at weight 32 (lowest load weight 8), checked every 2 s.
    static func config(threshold: Int? = nil, servers: Int = 3) -> String {
        // Direct routing and service = lvs: the defaults.
        var text = """
            virtual web {
                address = 10.0.0.10 eth0:1
                active = 1
                port = 80
                check_interval = 2
            \(threshold.map { "    panic_threshold = \($0)\n" } ?? "")
            """
        for index in 1...servers {
            text += """
                    server web\(index) {
                        active = 1
                        address = 10.0.0.\(index + 1)
                        weight = 32
                    }

                """
        }
        return text + "}\n"
    }

    func model(_ text: String = PanicTests.config()) -> DirectorModel {
        var model = DirectorModel(configuration: TestConfigurations.parse(text), now: t0)
        for server in ["web1", "web2", "web3"] { model.healthChanged(id(server), to: .up, now: at(1)) }
        return model
    }

    func plans(_ model: DirectorModel) -> [String: ServerPlan] {
        Dictionary(uniqueKeysWithValues: ["web1", "web2", "web3"].compactMap { name in
            model.desired.servers[id(name)].map { (name, $0) }
        })
    }

    func testThreeOfThreeTimingOutInOneIntervalRemovesNone() {
        var model = model()
        model.healthChanged(id("web1"), to: .down(.timeout), now: at(10))
        model.healthChanged(id("web2"), to: .down(.timeout), now: at(11))
        model.healthChanged(id("web3"), to: .down(.timeout), now: at(11))
        for (name, plan) in plans(model) {
            XCTAssertTrue(plan.inTable, "\(name): \(plan.reason)")
            XCTAssertEqual(plan.weight, 8, "\(name) at its lowest load weight (32 x 1/4): \(plan.reason)")
            XCTAssertTrue(plan.reason.contains("panic, 3 of 3 real servers fail their checks (fewer than 50% pass)"), plan.reason)
        }
        XCTAssertEqual(model.panic.panics["web"]?.since, at(11), "in panic from the second failure (1 of 3 passing)")
        XCTAssertEqual(model.panic.entries["web"], 1)
        let lines = model.takePanicLines(now: at(11))
        XCTAssertEqual(lines.count, 1, "\(lines)")
        XCTAssertTrue(lines[0].hasPrefix("virtual web: panic: 2 of 3 real servers fail their checks"), lines[0])
        XCTAssertEqual(model.desired.table.services.first?.destinations.count, 3)
    }

    func testOneOfThreeTimingOutIsRemovedAfterOneCheckInterval() {
        var model = model()
        model.healthChanged(id("web1"), to: .down(.timeout), now: at(10))
        // The others' checks of this interval may still time out: kept in, at its lowest load weight, meanwhile.
        XCTAssertEqual(plans(model)["web1"]?.weight, 8)
        XCTAssertTrue(plans(model)["web1"]!.reason.contains("for one check interval (2 s)"), plans(model)["web1"]!.reason)
        XCTAssertFalse(model.tick(now: at(11)))
        XCTAssertTrue(model.tick(now: at(12)), "the interval is over: the table changes")
        XCTAssertEqual(plans(model)["web1"]?.inTable, false)
        XCTAssertEqual(plans(model)["web2"]?.weight, 32)
        XCTAssertTrue(model.panic.panics.isEmpty)
        XCTAssertEqual(model.takePanicLines(now: at(10)), [])
    }

    func testARefusedServerIsRemovedAtOnce() {
        var model = model()
        model.healthChanged(id("web1"), to: .down(.connectionFailed("Connection refused")), now: at(10))
        XCTAssertEqual(plans(model)["web1"]?.inTable, false)
        var off = self.model(Self.config(threshold: 0))
        off.healthChanged(id("web1"), to: .down(.timeout), now: at(10))
        XCTAssertEqual(plans(off)["web1"]?.inTable, false, "panic off: a timeout removes at once, as Piranha")
    }

    func testARefusedServerIsRemovedEvenInPanic() {
        var model = model()
        model.healthChanged(id("web1"), to: .down(.timeout), now: at(10))
        model.healthChanged(id("web2"), to: .down(.connectionFailed("Connection refused")), now: at(10))
        model.healthChanged(id("web3"), to: .down(.unexpectedAnswer("HTTP/1.1 500")), now: at(11))
        XCTAssertNotNil(model.panic.panics["web"])
        let plans = plans(model)
        XCTAssertEqual(plans["web1"]?.inTable, true, "timed out: kept")
        XCTAssertEqual(plans["web1"]?.weight, 8)
        XCTAssertEqual(plans["web2"]?.inTable, false, "refused: dead")
        XCTAssertEqual(plans["web3"]?.inTable, false, "a wrong answer: broken")
        XCTAssertTrue(plans["web2"]!.reason.contains("removed: health check failed"), plans["web2"]!.reason)
    }

    func testRecoveryEndsThePanicAndTheTableIsNormalAgain() {
        var model = model()
        for server in ["web1", "web2", "web3"] { model.healthChanged(id(server), to: .down(.timeout), now: at(10)) }
        _ = model.takePanicLines(now: at(10))
        // Two pass again (after reentry): 2 of 3 pass, no more panic; the one still timing out goes.
        model.healthChanged(id("web1"), to: .up, now: at(200))
        XCTAssertNotNil(model.panic.panics["web"], "1 of 3 pass: still in panic")
        model.healthChanged(id("web2"), to: .up, now: at(201))
        XCTAssertNil(model.panic.panics["web"])
        let plans = plans(model)
        XCTAssertEqual(plans["web3"]?.inTable, false, plans["web3"]!.reason)
        XCTAssertEqual(plans["web1"]?.weight, 32, "served all along: no slow start, \(plans["web1"]!.reason)")
        XCTAssertEqual(plans["web2"]?.weight, 32)
        XCTAssertEqual(model.takePanicLines(now: at(201)), ["virtual web: panic over after 191 s: enough real servers pass their checks again"])
        // Later failures are judged afresh: one of three is removed.
        model.healthChanged(id("web3"), to: .up, now: at(400))
        model.healthChanged(id("web1"), to: .down(.timeout), now: at(500))
        model.tick(now: at(502))
        XCTAssertEqual(self.plans(model)["web1"]?.inTable, false)
    }

    func testAServerRemovedBeforeThePanicComesBackInAtItsLowestWeight() {
        // The cascade: one removal pushes its load onto the others, whose checks then time out.
        var model = model()
        model.healthChanged(id("web1"), to: .down(.timeout), now: at(10))
        model.tick(now: at(12))
        XCTAssertEqual(plans(model)["web1"]?.inTable, false)
        model.healthChanged(id("web2"), to: .down(.timeout), now: at(40))
        XCTAssertEqual(plans(model)["web1"]?.weight, 8, "back in: the panic counts every server failing now")
        XCTAssertEqual(plans(model)["web2"]?.weight, 8)
        XCTAssertEqual(plans(model)["web3"]?.weight, 32)
    }

    func testThresholdZeroTurnsPanicOffAndASingleServerNeverPanics() {
        var off = model(Self.config(threshold: 0))
        for server in ["web1", "web2", "web3"] { off.healthChanged(id(server), to: .down(.timeout), now: at(10)) }
        XCTAssertTrue(off.panic.panics.isEmpty)
        XCTAssertEqual(plans(off).values.filter(\.inTable).count, 0)
        var single = DirectorModel(configuration: TestConfigurations.parse(Self.config(servers: 1)), now: t0)
        single.healthChanged(id("web1"), to: .down(.timeout), now: at(10))
        XCTAssertTrue(single.panic.panics.isEmpty)
        XCTAssertEqual(single.desired.servers[id("web1")]?.inTable, false)
        // A higher threshold panics sooner: at 70 %, 2 of 3 passing is too few.
        var strict = model(Self.config(threshold: 70))
        strict.healthChanged(id("web1"), to: .down(.timeout), now: at(10))
        XCTAssertEqual(plans(strict)["web1"]?.weight, 8)
    }

    func testTheOperatorWinsOverPanic() {
        var model = model()
        model.applyOverride(.drain, for: OverrideKey(virtual: "web", address: "10.0.0.2"), at: 0)
        for server in ["web1", "web2", "web3"] { model.healthChanged(id(server), to: .down(.timeout), now: at(10)) }
        XCTAssertEqual(plans(model)["web1"]?.inTable, false, "drained and failing: out as without panic")
        XCTAssertEqual(plans(model)["web2"]?.weight, 8)
    }

    func testPanicLogLinesAreRateLimitedAndCounted() {
        var model = model()
        var lines: [String] = []
        // Three panics in 30 s: one line at once.
        for round in 0..<3 {
            let start = Int64(10 + round * 10)
            model.healthChanged(id("web1"), to: .down(.timeout), now: at(start))
            model.healthChanged(id("web2"), to: .down(.timeout), now: at(start))
            model.healthChanged(id("web2"), to: .up, now: at(start + 5))
            model.healthChanged(id("web1"), to: .up, now: at(start + 5))
            lines += model.takePanicLines(now: at(start + 5))
        }
        XCTAssertEqual(model.panic.entries["web"], 3)
        XCTAssertEqual(lines.count, 2, "\(lines)")
        XCTAssertTrue(lines[0].contains("panic: 2 of 3"), lines[0])
        XCTAssertTrue(lines[1].contains("panic over after 5 s"), lines[1])
        // The two held back are reported once the minute is over.
        XCTAssertEqual(model.takePanicLines(now: at(69)), [])
        XCTAssertEqual(model.takePanicLines(now: at(75)), ["virtual web: 2 more panics came and went since the last line"])
        // A panic held back that is still on is logged when its time comes.
        model.healthChanged(id("web1"), to: .down(.timeout), now: at(80))
        model.healthChanged(id("web2"), to: .down(.timeout), now: at(80))
        XCTAssertEqual(model.takePanicLines(now: at(80)), [])
        let late = model.takePanicLines(now: at(135))
        XCTAssertEqual(late.count, 1)
        XCTAssertTrue(late[0].hasPrefix("virtual web: panic: 2 of 3 real servers fail their checks (fewer than 50% pass); "), late[0])
    }

    func testTheCoreKeepsTheKernelTableAndShowsThePanic() async throws {
        let runtime = try RuntimeConfiguration.make(
            TestConfigurations.parse(Self.config()), file: "test.cf", localAddresses: [:]
        ).get()
        let kernel = InMemoryIPVSKernel()
        let core = DirectorCore(runtime: runtime, kernel: kernel)
        await core.reconcile()
        for server in ["web1", "web2", "web3"] { await core.healthChanged(id(server), to: .down(.timeout)) }
        let key = ServiceKey.address(.tcp, IPAddress("10.0.0.10")!, port: 80)
        let weights = await kernel.current[key]?.destinations.map(\.weight)
        XCTAssertEqual(weights, [8, 8, 8])
        let log = await kernel.log.map(\.description)
        XCTAssertFalse(log.contains { $0.hasPrefix("delete server") }, "never removed, not even the first: \(log)")
        let status = await core.status()
        let virtual = status.virtuals.first { $0.name == "web" }
        XCTAssertEqual(virtual?.panic?.failing, 3)
        XCTAssertEqual(virtual?.panics, 1)
        XCTAssertTrue(status.text.contains("PANIC web since"), status.text)
        let metrics = MetricsText.render(
            .init(
                counters: await core.counters, health: nil, heartbeat: nil, table: nil,
                serversConfigured: ["web": 3], panic: await core.model.panic))
        XCTAssertTrue(metrics.contains("h2e_virtual_panic{virtual=\"web\"} 1"), metrics)
        XCTAssertTrue(metrics.contains("h2e_panics_total{virtual=\"web\"} 1"), metrics)
    }
}
