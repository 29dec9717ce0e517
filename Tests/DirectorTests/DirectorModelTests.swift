import Addressing
import HostSystem
import HealthCheck
import IPVS
import LVSConfig
import LoadFeedback
import NIOCore
import XCTest

@testable import Director

final class DirectorModelTests: XCTestCase {
    let web1 = RealServerID(virtual: "web", server: "web1")
    let web2 = RealServerID(virtual: "web", server: "web2")
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    func at(_ seconds: Int64) -> NIODeadline { t0 + .seconds(seconds) }

    static let feedbackConfig = TestConfigurations.web.replacing(
        "scheduler = wlc", with: "scheduler = wlc\n    load_monitor = /usr/local/bin/load")

    /// A configuration of `virtuals` virtual servers of `servers` real servers each (v0..., s0...).
    static func large(virtuals: Int, servers: Int) -> String {
        var lines = ["network = direct", "service = lvs"]
        for v in 0..<virtuals {
            lines += ["virtual v\(v) {", "active = 1", "address = 10.8.\(v / 250).\(v % 250 + 1) eth0:1", "port = 80",
                "scheduler = wlc"]
            for r in 0..<servers {
                let n = v * servers + r
                lines += ["server s\(r) {", "active = 1", "address = 10.7.\(n / 250).\(n % 250 + 1)", "weight = 10", "}"]
            }
            lines.append("}")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Issue 19: between events, the director's work follows what changed. 100 virtual servers of 50 real servers:
    /// a server going down, an operator's drain and a panic map the servers of one virtual server and diff one
    /// service; time passing maps nothing; a reload maps everything.
    func testAnInputMapsAndDiffsOnlyTheServiceItMoved() {
        var model = DirectorModel(configuration: TestConfigurations.parse(Self.large(virtuals: 100, servers: 50)), now: t0)
        let key = { (v: Int) in ServiceKey.address(.tcp, IPAddress("10.8.0.\(v + 1)")!, port: 80) }
        var previous = model.reconcileTarget().table
        XCTAssertEqual(model.serversMapped, 5000, "the first time, every server")
        XCTAssertEqual(previous.services.count, 100)

        func expectOneService(_ v: Int, _ what: String, _ change: (inout DirectorModel) -> Void) {
            let generation = model.tableGeneration
            let mapped = model.serversMapped
            change(&model)
            let target = model.reconcileTarget().table
            XCTAssertEqual(model.serversMapped - mapped, 50, "\(what): the servers of v\(v) alone")
            XCTAssertEqual(model.servicesChanged(since: generation), [key(v)], what)
            XCTAssertTrue(target == model.desired.table, "\(what): the table differs from the whole configuration mapped")
            XCTAssertFalse(IPVSReconciler.changes(from: previous, to: target, only: [key(v)]).isEmpty, what)
            previous = target
        }
        expectOneService(7, "a server down") {
            $0.healthChanged(RealServerID(virtual: "v7", server: "s3"), to: .down(.connectionFailed("refused")), now: at(1))
        }
        expectOneService(42, "an operator's drain") {
            $0.applyOverride(.drain, for: OverrideKey(virtual: "v42", address: "10.7.8.101"), at: 0)
        }
        expectOneService(9, "a panic") { model in
            for r in 0..<40 {
                model.healthChanged(RealServerID(virtual: "v9", server: "s\(r)"), to: .down(.timeout), now: at(2))
            }
        }
        let mapped = model.serversMapped
        let generation = model.tableGeneration
        for second in 3...30 { model.tick(now: at(Int64(second))) }
        XCTAssertTrue(model.reconcileTarget().table == previous)
        XCTAssertEqual(model.serversMapped, mapped, "time passing maps nothing")
        XCTAssertEqual(model.servicesChanged(since: generation), [])
        model.reconfigure(TestConfigurations.parse(Self.large(virtuals: 100, servers: 50)), now: at(31))
        XCTAssertNil(model.servicesChanged(since: generation), "a reload: every service may have moved")
        _ = model.reconcileTarget()
        XCTAssertEqual(model.serversMapped - mapped, 5000)
    }

    func testHealthChangesOnlyReportRealChanges() {
        var model = DirectorModel(configuration: TestConfigurations.parse(TestConfigurations.web), now: t0)
        XCTAssertTrue(model.healthChanged(web1, to: .up, now: at(1)))
        XCTAssertFalse(model.healthChanged(web1, to: .up, now: at(2)), "same verdict again is no change")
        XCTAssertFalse(model.healthChanged(RealServerID(virtual: "web", server: "spare"), to: .up, now: at(2)),
            "an inactive server is not tracked")
        XCTAssertTrue(model.healthChanged(web1, to: .down(.connectionFailed("Connection refused")), now: at(3)))
        XCTAssertEqual(model.health[web1]?.since, at(3))
        XCTAssertEqual(model.desired.servers[web1]?.inTable, false)
    }

    /// The contract of ``DirectorModel/tableGeneration``: whenever an input leaves it, the desired table is the one
    /// before (the director then skips the map and the diff). Random inputs over virtual servers with load
    /// feedback, panic, a sorry server, quiescing and a destination shared by two fwmark virtual servers; and the
    /// inputs that must leave it do.
    func testTableGenerationMovesWheneverTheTableMayChange() {
        let config = """
            network = direct
            service = lvs
            load_slow_start = 6
            virtual web {
                active = 1
                address = 10.0.0.10 eth0:1
                port = 80
                load_monitor = /usr/local/bin/load
                panic_threshold = 60
                check_interval = 2
                sorry_server = 10.0.0.99
                server a {
                    active = 1
                    address = 10.0.0.2
                    weight = 32
                }
                server b {
                    active = 1
                    address = 10.0.0.3
                    weight = 16
                }
                server c {
                    active = 1
                    address = 10.0.0.4
                    weight = 8
                }
            }
            virtual quiet {
                active = 1
                address = 10.0.0.11 eth0:2
                port = 80
                quiesce_server = 1
                server q {
                    active = 1
                    address = 10.0.0.5
                    weight = 5
                }
            }
            virtual m80 {
                active = 1
                address = 10.0.0.12 eth0:3
                fwmark = 7
                port = 80
                server s {
                    active = 1
                    address = 10.0.0.6
                    weight = 4
                }
            }
            virtual m443 {
                active = 1
                address = 10.0.0.12 eth0:3
                fwmark = 7
                port = 443
                server s {
                    active = 1
                    address = 10.0.0.6
                    weight = 6
                }
            }

            """
        var model = DirectorModel(configuration: TestConfigurations.parse(config), now: t0)
        let ids = [("web", "a"), ("web", "b"), ("web", "c"), ("quiet", "q"), ("m80", "s"), ("m443", "s")]
            .map { RealServerID(virtual: $0.0, server: $0.1) }
        let configuration = TestConfigurations.parse(config)
        var address: [RealServerID: String] = [:]
        for id in ids {
            address[id] = configuration.virtualServer(named: id.virtual)?.realServers
                .first { $0.name == id.server }?.address.description
        }
        let verdicts: [HealthState] = [.up, .down(.connectionFailed("Connection refused")), .down(.timeout)]
        var random = SplitMix64(seed: 13)
        var kept = 0
        for step in 1...3000 {
            let now = at(Int64(step))
            let (generation, table) = (model.tableGeneration, model.desired.table)
            let input: String
            switch Int.random(in: 0..<11, using: &random) {
            case 0..<6:
                let id = ids.randomElement(using: &random)!
                let verdict = verdicts.randomElement(using: &random)!
                model.healthChanged(id, to: verdict, now: now)
                input = "\(id) \(verdict)"
            case 6..<8:
                model.tick(now: now)
                input = "tick"
            case 10:
                let id = ids.randomElement(using: &random)!
                let action = [OverrideAction.drain, .down, .up, .clear].randomElement(using: &random)!
                model.applyOverride(action, for: OverrideKey(virtual: id.virtual, address: address[id]!), at: 0)
                input = "\(action) \(id)"
            default:
                let loads = [0.1, 1.0, 3.0]
                model.loadRound(
                    virtual: "web",
                    readings: Dictionary(uniqueKeysWithValues: ["a", "b", "c"].map {
                        ($0, .load(perCPU: loads.randomElement(using: &random)!, at: now, signal: .live(window: .seconds(10))))
                    }), now: now)
                input = "load round"
            }
            if model.tableGeneration == generation {
                kept += 1
                XCTAssertEqual(model.desired.table, table, "step \(step): \(input) left the generation but moved the table")
            }
            // What the reconcile loop gets: the services the input marked, mapped again, are the whole table, and
            // diffing those alone gives every change.
            let full = model.desired
            let target = model.reconcileTarget()
            XCTAssertEqual(target.table, full.table, "step \(step): \(input): the services it marked are not all it moved")
            XCTAssertEqual(target.serving, full.servingVirtuals, "step \(step): \(input)")
            let changed = model.servicesChanged(since: generation)
            XCTAssertEqual(
                IPVSReconciler.changes(from: table, to: target.table, only: changed),
                IPVSReconciler.changes(from: table, to: target.table), "step \(step): \(input)")
        }
        XCTAssertGreaterThan(kept, 1000, "most inputs change nothing in the table")

        var fresh = DirectorModel(configuration: TestConfigurations.parse(TestConfigurations.web), now: t0)
        let start = fresh.tableGeneration
        XCTAssertTrue(fresh.healthChanged(web1, to: .up, now: at(1)))
        XCTAssertEqual(fresh.tableGeneration, start, "a first check that finds a server up: it was in already")
        XCTAssertFalse(fresh.tick(now: at(2)))
        XCTAssertEqual(fresh.tableGeneration, start, "a tick with no server down")
        fresh.healthChanged(web1, to: .down(.connectionFailed("Connection refused")), now: at(3))
        XCTAssertGreaterThan(fresh.tableGeneration, start, "a server out")
    }

    /// A weight load feedback would raise past IPVS's highest (65535) stops there, and the table and the reason say
    /// the same number.
    func testLoadFeedbackStopsAtTheTablesHighestWeight() {
        var model = DirectorModel(
            configuration: TestConfigurations.parse(Self.feedbackConfig.replacing("weight = 32", with: "weight = 30000")),
            now: t0)
        for round in 1...60 {
            let now = at(Int64(round) * 2)
            model.loadRound(
                virtual: "web",
                readings: [
                    "web1": .load(perCPU: 0.1, at: now, signal: .live(window: .seconds(10))),
                    "web2": .load(perCPU: 3.0, at: now, signal: .live(window: .seconds(10))),
                ], now: now)
        }
        let plan = model.desired.servers[web1]!
        XCTAssertEqual(plan.weight, 65535, plan.reason)
        XCTAssertTrue(plan.reason.hasPrefix("weight 65535: "), plan.reason)
        XCTAssertEqual(model.desired.table.services.flatMap(\.destinations).map(\.weight).max(), 65535)
    }

    func testLoadRoundsMoveWeightsAndReadmissionStartsSlowly() {
        var model = DirectorModel(configuration: TestConfigurations.parse(Self.feedbackConfig), now: t0)
        XCTAssertEqual(model.weights[web1]?.weight, 32, "feedback starts at the configured weight")
        XCTAssertEqual(Set(model.loadTargets()["web"]?.keys.map { $0 } ?? []), [web1, web2])
        // web1 twice as loaded as web2 for a few minutes of samples: its weight goes down, web2's up.
        for minute in 1...6 {
            let now = at(Int64(minute) * 60)
            model.loadRound(
                virtual: "web",
                readings: ["web1": .load(perCPU: 2.0, at: now), "web2": .load(perCPU: 0.5, at: now)], now: now)
        }
        let w1 = model.desired.servers[web1]!
        let w2 = model.desired.servers[web2]!
        XCTAssertLessThan(w1.weight!, 32)
        XCTAssertGreaterThan(w2.weight!, 16)
        XCTAssertTrue(w1.reason.contains("load 2.00/cpu"), w1.reason)
        XCTAssertEqual(model.loads[web1]?.reading, .load(perCPU: 2.0, at: at(360)))

        // Down: out of the table and not asked for its load; back: slow start from 1.
        model.healthChanged(web1, to: .up, now: at(361))
        model.healthChanged(web1, to: .down(.timeout), now: at(362))
        model.tick(now: at(364))  // one check interval of grace (panic), then out
        XCTAssertNil(model.loadTargets()["web"]?[web1])
        model.healthChanged(web1, to: .up, now: at(400))
        model.loadRound(virtual: "web", readings: ["web1": .load(perCPU: 0.5, at: at(401))], now: at(401))
        let readmitted = model.desired.servers[web1]!
        XCTAssertEqual(readmitted.weight, 1, readmitted.reason)
        XCTAssertTrue(readmitted.reason.contains("slow start"), readmitted.reason)
    }

    func testLiveFiguresMoveTheWeightInSecondsWhereLoadAveragesTakeMinutes() {
        let live = LoadSignal.live(window: .seconds(10))
        func weightAfterTenSeconds(_ signal: LoadSignal) -> (Int, DirectorModel) {
            var model = DirectorModel(configuration: TestConfigurations.parse(Self.feedbackConfig), now: t0)
            for round in 1...5 {
                let now = at(Int64(round) * 2)
                model.loadRound(
                    virtual: "web",
                    readings: ["web1": .load(perCPU: 1.6, at: now, signal: signal), "web2": .load(perCPU: 0.4, at: now, signal: signal)],
                    now: now)
            }
            return (model.desired.servers[web1]!.weight!, model)
        }
        let (fast, model) = weightAfterTenSeconds(live)
        let (slow, _) = weightAfterTenSeconds(.loadAverage)
        XCTAssertLessThan(fast, 20, "five live figures at twice the reference (0.8)")
        XCTAssertGreaterThan(slow, 24, "the same as load averages: one sample's worth")
        XCTAssertEqual(model.feedbackState(of: web1)?.signal, live)
        XCTAssertTrue(model.desired.servers[web1]!.reason.contains("live load 1.60 (10 s)"), model.desired.servers[web1]!.reason)
    }

    func testHoldTimeoutAndSlowStartComeFromTheConfiguration() {
        let config = "load_hold_timeout = 20\nload_slow_start = 0\n" + Self.feedbackConfig
        var model = DirectorModel(configuration: TestConfigurations.parse(config), now: t0)
        XCTAssertEqual(model.policy.holdTimeout, .seconds(20))
        XCTAssertEqual(model.policy.slowStart, .zero)
        for minute in 1...6 {
            let now = at(Int64(minute) * 60)
            model.loadRound(
                virtual: "web",
                readings: ["web1": .load(perCPU: 2.0, at: now), "web2": .load(perCPU: 0.5, at: now)], now: now)
        }
        let moved = model.weights[web1]!.weight
        XCTAssertLessThan(moved, 32)
        // The agent stops answering: the weight holds for 20 s, then returns to the configured 32.
        let dead: [String: LoadReading] = ["web1": .failed(.unreachable("connection refused"))]
        model.loadRound(virtual: "web", readings: dead, now: at(370))
        XCTAssertEqual(model.weights[web1]?.weight, moved, model.weights[web1]!.reason)
        model.loadRound(virtual: "web", readings: dead, now: at(378))
        XCTAssertEqual(model.weights[web1]?.weight, moved, "held 18 s after the last sample")
        model.loadRound(virtual: "web", readings: dead, now: at(382))
        XCTAssertEqual(model.weights[web1]?.weight, 32, model.weights[web1]!.reason)
        // No slow start: a re-admitted server gets its weight at once.
        model.healthChanged(web2, to: .up, now: at(383))
        model.healthChanged(web2, to: .down(.timeout), now: at(384))
        model.healthChanged(web2, to: .up, now: at(385))
        model.loadRound(virtual: "web", readings: ["web2": .load(perCPU: 0.5, at: at(386))], now: at(386))
        XCTAssertGreaterThan(model.weights[web2]!.weight, 1, model.weights[web2]!.reason)
        XCTAssertFalse(model.weights[web2]!.reason.contains("slow start"), model.weights[web2]!.reason)

        // A reload that lengthens the hold applies to the running state.
        model.reconfigure(TestConfigurations.parse(Self.feedbackConfig), now: at(390))
        XCTAssertEqual(model.policy.holdTimeout, .seconds(180))
        XCTAssertEqual(model.feedbackState(of: web1)?.policy.holdTimeout, .seconds(180))
    }

    func testOverridesSetClearAndForce() {
        var model = DirectorModel(configuration: TestConfigurations.parse(TestConfigurations.web), now: t0)
        let key = OverrideKey(virtual: "web", address: "10.0.0.2")
        model.applyOverride(.drain, for: key, at: 100)
        XCTAssertEqual(model.overrides[key], .init(action: .drain, setAt: 100))
        XCTAssertEqual(model.desired.servers[web1]?.weight, 0)
        model.applyOverride(.up, for: key, at: 200)
        XCTAssertNil(model.overrides[key], "up clears drain: health checks decide again")
        model.applyOverride(.up, for: key, at: 300)
        XCTAssertEqual(model.overrides[key], .init(action: .up, setAt: 300), "up without override forces the server in")
        model.applyOverride(.up, for: key, at: 400)
        XCTAssertEqual(model.overrides[key]?.setAt, 300, "up again keeps the forced up")
        model.applyOverride(.clear, for: key, at: 500)
        XCTAssertNil(model.overrides[key])
    }

    func testRoleChangesCountFailovers() {
        var model = DirectorModel(configuration: TestConfigurations.parse(TestConfigurations.web), now: t0)
        XCTAssertNil(model.role.role)
        XCTAssertEqual(model.role.phase, .starting)
        XCTAssertTrue(model.roleChanged(to: .backup, reason: "starting", now: at(0)))
        XCTAssertEqual(model.failovers, 0, "the first decision is no failover")
        XCTAssertTrue(model.roleChanged(to: .active, reason: "peer dead", now: at(5)))
        XCTAssertFalse(model.roleChanged(to: .active, reason: "again", now: at(6)))
        XCTAssertTrue(model.roleChanged(to: .backup, reason: "shutting down", now: at(9)))
        XCTAssertEqual(model.failovers, 2)
        XCTAssertEqual(model.role, .init(phase: .backup, reason: "shutting down", since: at(9)))
        model.roleStopped(now: at(10))
        XCTAssertEqual(model.role.phase, .stopped)
        XCTAssertNil(model.role.role)
    }

    func testReconfigureKeepsUnchangedServersAndDropsRemovedOnes() {
        var model = DirectorModel(configuration: TestConfigurations.parse(Self.feedbackConfig), now: t0)
        model.healthChanged(web1, to: .up, now: at(1))
        model.healthChanged(web2, to: .down(.timeout), now: at(1))
        let withoutWeb2 = Self.feedbackConfig.replacing(
            "server web2 {\n        active = 1", with: "server web2 {\n        active = 0")
        XCTAssertNotEqual(withoutWeb2, Self.feedbackConfig)
        model.reconfigure(TestConfigurations.parse(withoutWeb2), now: at(10))
        XCTAssertEqual(model.health[web1]?.state, .up)
        XCTAssertNil(model.health[web2])
        XCTAssertNil(model.weights[web2])
        XCTAssertEqual(model.desired.table[.address(.tcp, IPAddress("10.0.0.10")!, port: 80)]?.destinations.count, 1)
        let reweighted = withoutWeb2.replacing("weight = 32", with: "weight = 64")
        model.reconfigure(TestConfigurations.parse(reweighted), now: at(11))
        XCTAssertEqual(model.weights[web1]?.weight, 64, "a changed configured weight scales the feedback weight")
    }
}
