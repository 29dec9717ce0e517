import LoadFeedback
import NIOCore
import XCTest

final class LoadFeedbackStateTests: XCTestCase {
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    func at(_ seconds: Int64) -> NIODeadline { t0 + .seconds(seconds) }

    func testAServerAlreadyServingStartsAtItsConfiguredWeight() {
        let state = LoadFeedbackState(baseWeight: 32, admittedAt: nil, now: t0)
        XCTAssertEqual(state.weight, 32)
        XCTAssertEqual(state.reason, "weight 32: configured, base 32")
    }

    func testAnAdmittedServerStartsSlowly() {
        var state = LoadFeedbackState(baseWeight: 32, admittedAt: t0, now: t0)
        XCTAssertEqual(state.weight, 1)
        let decision = state.decideWithoutReading(now: at(30))
        XCTAssertEqual(decision, WeightDecision(weight: 16, reason: "weight 16: slow start 30 of 60 s, base 32", changed: true))
        XCTAssertEqual(state.decideWithoutReading(now: at(61)).weight, 32)
    }

    func testTheSameAgentSampleCountsOnce() {
        var state = LoadFeedbackState(baseWeight: 32, admittedAt: nil, now: t0)
        let sample = LoadReading.load(perCPU: 2, at: at(-10))
        let first = state.apply(sample, now: at(0), reference: 1)
        XCTAssertTrue(first.changed)
        // The same sample fetched again 5 s later (its age said 14.6 s instead of 10 s).
        let again = state.apply(.load(perCPU: 2, at: at(-9)), now: at(5), reference: 1)
        XCTAssertEqual(again.weight, first.weight)
        XCTAssertFalse(again.changed)
        XCTAssertEqual(state.counters.samples, 1)
        XCTAssertEqual(state.counters.readings, 2)
        // The next minute's sample counts.
        let next = state.apply(.load(perCPU: 2, at: at(50)), now: at(60), reference: 1)
        XCTAssertLessThan(next.weight, first.weight)
        XCTAssertEqual(state.counters.samples, 2)
    }

    func testFailuresAreCountedByKindAndTheWeightHeld() {
        var state = LoadFeedbackState(baseWeight: 32, admittedAt: nil, now: t0)
        var weight = 32
        for minute in Int64(0)..<5 {
            weight = state.apply(.load(perCPU: 3, at: at(minute * 60)), now: at(minute * 60), reference: 1).weight
        }
        XCTAssertLessThan(weight, 32)
        let timeout = state.apply(.failed(.timedOut(.seconds(3))), now: at(300))
        XCTAssertEqual(timeout.weight, weight)
        XCTAssertFalse(timeout.changed)
        _ = state.apply(.load(perCPU: .nan, at: at(305)), now: at(305))
        _ = state.apply(.load(perCPU: 1, at: at(0)), now: at(310))  // 310 s old: stale
        XCTAssertEqual(state.counters.failures, 3)
        XCTAssertEqual(state.counters.consecutiveFailures, 3)
        XCTAssertEqual(state.counters.failuresByKind, ["timeout": 1, "implausible": 1, "stale": 1])
        XCTAssertEqual(state.counters.lastFailure, .stale(ageSeconds: 310))
        XCTAssertEqual(state.weight, weight)
        _ = state.apply(.load(perCPU: 1, at: at(315)), now: at(315), reference: 1)
        XCTAssertEqual(state.counters.consecutiveFailures, 0)
    }

    func testWithoutUsableLoadForTheHoldTimeoutTheConfiguredWeightReturns() {
        var state = LoadFeedbackState(baseWeight: 32, admittedAt: nil, now: t0)
        _ = state.apply(.load(perCPU: 0.1, at: at(0)), now: at(0), reference: 1)
        let raised = state.apply(.load(perCPU: 0.1, at: at(60)), now: at(60), reference: 1).weight
        XCTAssertGreaterThan(raised, 32)
        XCTAssertEqual(state.apply(.failed(.unreachable("connection refused")), now: at(239)).weight, raised)
        let reset = state.apply(.failed(.unreachable("connection refused")), now: at(240))
        XCTAssertEqual(reset.weight, 32)
        XCTAssertTrue(reset.changed)
        XCTAssertTrue(reset.reason.contains("configured, no usable load for 180 s: agent unreachable"), reset.reason)
    }

    func testReadmissionRestartsSlowlyAndForgetsTheFactor() {
        var state = LoadFeedbackState(baseWeight: 32, admittedAt: nil, now: t0)
        for minute in Int64(0)..<10 {
            _ = state.apply(.load(perCPU: 0.1, at: at(minute * 60)), now: at(minute * 60), reference: 1)
        }
        XCTAssertGreaterThan(state.weight, 64)
        let back = state.readmit(at: at(1000))
        XCTAssertEqual(back.weight, 1)
        XCTAssertEqual(state.factor, 1)
        XCTAssertTrue(state.inSlowStart(at: at(1059)))
        XCTAssertFalse(state.inSlowStart(at: at(1060)))
    }

    func testWithoutReferenceTheTargetLoadIsUsed() {
        var state = LoadFeedbackState(baseWeight: 10, admittedAt: nil, now: t0)
        let decision = state.apply(.load(perCPU: 1.4, at: at(0)), now: at(0))
        XCTAssertTrue(decision.reason.contains("vs 0.70 reference"), decision.reason)
        XCTAssertLessThan(decision.weight, 10)
    }

    func testEveryLiveFigureIsANewSample() {
        var state = LoadFeedbackState(baseWeight: 32, admittedAt: nil, now: t0)
        let live = LoadSignal.live(window: .seconds(10))
        var weights: [Int] = []
        for second in stride(from: Int64(2), through: 10, by: 2) {
            weights.append(state.apply(.load(perCPU: 2, at: at(second), signal: live), now: at(second), reference: 1).weight)
        }
        XCTAssertEqual(state.counters.samples, 5, "2 s apart, each live figure counts")
        XCTAssertEqual(weights, weights.sorted(by: >))
        XCTAssertLessThan(weights.last!, 20, "five live figures at twice the reference: \(weights)")
        XCTAssertEqual(state.signal, live)
        XCTAssertTrue(state.reason.contains("live load 2.00 (10 s)"), state.reason)
    }

    func testALiveAgentThatTimesOutIsTakenAsSaturatedUntilTheHoldTimeout() {
        var state = LoadFeedbackState(baseWeight: 32, admittedAt: nil, now: t0)
        let live = LoadSignal.live(window: .seconds(10))
        _ = state.apply(.load(perCPU: 0.7, at: at(0), signal: live), now: at(0), reference: 0.7)
        XCTAssertEqual(state.weight, 32)
        var weights: [Int] = []
        for second in stride(from: Int64(2), through: 20, by: 2) {
            weights.append(state.apply(.failed(.timedOut(.seconds(3))), now: at(second), reference: 0.7).weight)
        }
        XCTAssertEqual(weights, weights.sorted(by: >), "falls steadily: \(weights)")
        XCTAssertLessThanOrEqual(weights.last!, 16, "\(weights)")
        XCTAssertTrue(state.reason.contains("no answer (timeout), taken as saturated: live load 2.00"), state.reason)
        XCTAssertEqual(state.counters.failuresByKind["timeout"], 10, "still counted as failures")
        // An unreachable agent says nothing about the load: held.
        let held = state.apply(.failed(.unreachable("connection refused")), now: at(22), reference: 0.7)
        XCTAssertEqual(held.weight, weights.last!)
        XCTAssertTrue(held.reason.contains("held"), held.reason)
        // Past the hold timeout without a figure, timeouts too fall back to the configured weight.
        XCTAssertEqual(state.apply(.failed(.timedOut(.seconds(3))), now: at(181), reference: 0.7).weight, 32)
    }

    func testAnInFlightAgentThatTimesOutIsTakenAsCarryingFourTimesItsReference() {
        var state = LoadFeedbackState(baseWeight: 32, admittedAt: nil, now: t0)
        let inFlight = LoadSignal.inFlight(window: .seconds(10))
        _ = state.apply(.load(perCPU: 40, at: at(0), signal: inFlight), now: at(0), reference: 40)
        XCTAssertEqual(state.weight, 32)
        let decision = state.apply(.failed(.timedOut(.seconds(3))), now: at(2), reference: 40)
        XCTAssertLessThan(decision.weight, 32)
        XCTAssertTrue(
            decision.reason.contains("no answer (timeout), taken as saturated: 160.00 in flight/cpu (10 s)"), decision.reason)
    }

    func testALoadAverageAgentThatTimesOutIsHeldAsToday() {
        var state = LoadFeedbackState(baseWeight: 32, admittedAt: nil, now: t0)
        _ = state.apply(.load(perCPU: 2, at: at(0)), now: at(0), reference: 1)
        let weight = state.weight
        let decision = state.apply(.failed(.timedOut(.seconds(3))), now: at(2), reference: 1)
        XCTAssertEqual(decision.weight, weight)
        XCTAssertTrue(decision.reason.contains("held"), decision.reason)
    }
}

final class LoadFeedbackGroupTests: XCTestCase {
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    func testTheReferenceIsTheGeometricMeanOfEstablishedServers() {
        var group = LoadFeedbackGroup<String>()
        group.add("a", baseWeight: 32, admittedAt: nil, now: t0)
        group.add("b", baseWeight: 32, admittedAt: nil, now: t0)
        group.add("new", baseWeight: 32, admittedAt: t0, now: t0)
        group.add("quiesced", baseWeight: 0, admittedAt: nil, now: t0)
        let readings: [String: LoadReading] = [
            "a": .load(perCPU: 1, at: t0), "b": .load(perCPU: 4, at: t0), "new": .load(perCPU: 0, at: t0),
            "quiesced": .load(perCPU: 0.01, at: t0),
        ]
        XCTAssertEqual(group.reference(for: readings, now: t0)!, 2, accuracy: 1e-9)
        XCTAssertEqual(group.reference(for: ["new": .load(perCPU: 0.8, at: t0)], now: t0)!, 0.8, accuracy: 1e-9)
        XCTAssertNil(group.reference(for: ["a": .failed(.timedOut(.seconds(1)))], now: t0))
    }

    func testLoadMovesFromTheBusyServerToTheIdleOneAndTheScaleStays() {
        var group = LoadFeedbackGroup<String>()
        group.add("busy", baseWeight: 32, admittedAt: nil, now: t0)
        group.add("idle", baseWeight: 32, admittedAt: nil, now: t0)
        var decisions: [String: WeightDecision] = [:]
        for minute in Int64(0)..<5 {
            let now = t0 + .seconds(minute * 60)
            decisions = group.apply(["busy": .load(perCPU: 2, at: now), "idle": .load(perCPU: 0.5, at: now)], now: now)
        }
        let busy = decisions["busy"]!.weight
        let idle = decisions["idle"]!.weight
        XCTAssertLessThan(busy, 32)
        XCTAssertGreaterThan(idle, 32)
        XCTAssertEqual(Double(busy * idle), 32 * 32, accuracy: 32 * 32 * 0.05, "product of weights kept")
        XCTAssertTrue(decisions["busy"]!.reason.contains("load 2.00/cpu vs 1.00 reference"), decisions["busy"]!.reason)
    }

    /// Requests in flight per CPU: a server with a queue loses weight to those without one, fast (the live time
    /// constant); below one request per CPU servers are equally idle, whatever their capacity.
    func testRequestsInFlightMoveWeightFromTheQueueingServerWithTheirOwnFloor() {
        var group = LoadFeedbackGroup<String>()
        for name in ["small", "middle", "large"] { group.add(name, baseWeight: 32, admittedAt: nil, now: t0) }
        let signal = LoadSignal.inFlight(window: .seconds(10))
        func round(_ second: Int64, _ small: Double, _ middle: Double, _ large: Double) -> [String: WeightDecision] {
            let now = t0 + .seconds(second)
            return group.apply(
                ["small": .load(perCPU: small, at: now, signal: signal), "middle": .load(perCPU: middle, at: now, signal: signal),
                 "large": .load(perCPU: large, at: now, signal: signal)], now: now)
        }
        // All under one request per CPU: the floor, nothing moves.
        var decisions = round(2, 0.9, 0.2, 0)
        XCTAssertEqual(decisions.values.map(\.weight), [32, 32, 32])
        // 20 queued on a 0.06-CPU server (333/cpu) against 1 on 0.12 and 0.24 CPU (8 and 4 per CPU).
        decisions = round(4, 333, 8.3, 4.2)
        XCTAssertEqual(decisions["small"]!.weight, 26, "one reading changes a weight by at most 1.25x: 32 / 1.25")
        XCTAssertGreaterThan(decisions["large"]!.weight, decisions["middle"]!.weight, "the less queued per CPU gains more")
        XCTAssertGreaterThan(decisions["middle"]!.weight, 32)
        // Within half a minute the queueing server is at its lowest weight.
        for second in stride(from: Int64(6), through: 30, by: 2) { decisions = round(second, 333, 8.3, 4.2) }
        XCTAssertEqual(decisions["small"]!.weight, 8, "at the lowest, a quarter of 32: \(decisions)")
        XCTAssertTrue(decisions["small"]!.reason.contains("at the lowest (1/4 of base)"), decisions["small"]!.reason)
        XCTAssertTrue(decisions["small"]!.reason.contains("333.00 in flight/cpu (10 s)"), decisions["small"]!.reason)
    }

    /// Live figures state each server's capacity: servers still without a sample start in proportion to their
    /// capacity per configured weight, the largest keeping its weight; once per (re)admission.
    func testServersStartFromTheirStatedCapacityOncePerAdmission() {
        var group = LoadFeedbackGroup<String>()
        for name in ["small", "middle", "large"] { group.add(name, baseWeight: 32, admittedAt: nil, now: t0) }
        let live = LoadSignal.live(window: .seconds(10))
        let capacities = ["small": 0.06, "middle": 0.12, "large": 0.24]
        func round(_ second: Int64, _ names: [String], load: Double = 0.1) -> [String: WeightDecision] {
            let now = t0 + .seconds(second)
            var readings: [String: LoadReading] = [:]
            for name in names {
                readings[name] = .load(perCPU: load, at: now, signal: live, capacity: capacities[name])
            }
            return group.apply(readings, now: now)
        }
        // One server alone states a capacity: nothing to compare it with, so it does not start from it yet.
        var decisions = round(2, ["small"])
        XCTAssertEqual(decisions["small"]!.weight, 32)
        XCTAssertFalse(group.states["small"]!.startedFromCapacity)
        // All answer: 0.06 and 0.12 of the largest 0.24 per weight, idle (the floor), so only the start moves; the
        // server that answered alone before starts too.
        decisions = round(4, ["small", "middle", "large"])
        XCTAssertEqual(decisions["small"]!.weight, 8)
        XCTAssertEqual(decisions["middle"]!.weight, 16)
        XCTAssertEqual(decisions["large"]!.weight, 32)
        XCTAssertTrue(
            decisions["small"]!.reason.hasSuffix("; started from capacity 0.06 CPUs, 0.25 of the largest per weight"),
            decisions["small"]!.reason)
        XCTAssertFalse(decisions["large"]!.reason.contains("started"), decisions["large"]!.reason)
        // Said once; later rounds follow the load from there.
        decisions = round(6, ["small", "middle", "large"])
        XCTAssertEqual(decisions.mapValues(\.weight), ["small": 8, "middle": 16, "large": 32])
        XCTAssertFalse(decisions["small"]!.reason.contains("started"), decisions["small"]!.reason)
        // A readmitted server has forgotten its factor, and starts from its capacity again.
        group.readmit("middle", at: t0 + .seconds(7))
        XCTAssertEqual(group.states["middle"]!.factor, 1)
        _ = round(8, ["small", "middle", "large"])
        XCTAssertEqual(group.states["middle"]!.factor, 0.5)

        /// The weights after the first round of a fresh group: each server's configured weight, live load and
        /// stated capacity (nil: a load average, which states none).
        func firstRound(_ servers: [String: (base: Int, load: Double, capacity: Double?)]) -> [String: Int] {
            var fresh = LoadFeedbackGroup<String>()
            for (name, server) in servers { fresh.add(name, baseWeight: server.base, admittedAt: nil, now: t0) }
            let now = t0 + .seconds(2)
            return fresh.apply(
                servers.mapValues { server in
                    server.capacity.map { .load(perCPU: server.load, at: now, signal: live, capacity: $0) }
                        ?? .load(perCPU: server.load, at: now)
                }, now: now
            ).mapValues(\.weight)
        }

        // Servers configured in proportion to their capacities start where they are configured.
        XCTAssertEqual(
            firstRound(["small": (8, 0.1, 0.06), "middle": (16, 0.1, 0.12), "large": (32, 0.1, 0.24)]),
            ["small": 8, "middle": 16, "large": 32])

        // A server eight times smaller starts at the lowest factor, a quarter, not an eighth; a load average states
        // no capacity and starts nobody.
        XCTAssertEqual(
            firstRound(["tiny": (32, 0.1, 0.5), "huge": (32, 0.1, 4), "old": (32, 0.1, nil)]),
            ["tiny": 8, "huge": 32, "old": 32])

        // Busy from the first round: the small server starts at its floor and, still the busiest, is held there and
        // left out of the reference; the others, level with each other, keep their start.
        XCTAssertEqual(
            firstRound(["small": (32, 1.6, 0.06), "middle": (32, 0.8, 0.12), "large": (32, 0.8, 0.24)]),
            ["small": 8, "middle": 16, "large": 32])
    }

    /// A server held at its lowest weight and still the busiest is left out of the reference: the others balance
    /// among themselves instead of all drifting up round after round while it sits at its floor.
    func testAServerHeldAtItsLowestWeightDoesNotDriveTheOthersUp() {
        var group = LoadFeedbackGroup<String>()
        for name in ["small", "middle", "large"] { group.add(name, baseWeight: 32, admittedAt: nil, now: t0) }
        let live = LoadSignal.live(window: .seconds(10))
        var decisions: [String: WeightDecision] = [:]
        func round(_ second: Int64, _ small: Double, _ middle: Double, _ large: Double) {
            let now = t0 + .seconds(second)
            decisions = group.apply(
                ["small": .load(perCPU: small, at: now, signal: live), "middle": .load(perCPU: middle, at: now, signal: live),
                 "large": .load(perCPU: large, at: now, signal: live)], now: now)
        }
        // Not yet at its floor, the busy server is in the mean: 1.6 against 0.8 and 0.8 is a reference of 1.01, and
        // the two others rise while it falls.
        round(2, 1.6, 0.8, 0.8)
        XCTAssertEqual(group.reference(for: ["a": .load(perCPU: 1, at: t0)], now: t0), nil, "unknown keys count for nothing")
        XCTAssertLessThan(decisions["small"]!.weight, 32)
        XCTAssertGreaterThan(decisions["large"]!.weight, 32)
        // A minute of it: the small server reaches its floor (8) and stays the busiest. The others stop rising: the
        // reference is their own mean, and they are within the tolerance of it.
        for second in stride(from: Int64(4), through: 60, by: 2) { round(second, 1.6, 0.8, 0.8) }
        XCTAssertEqual(decisions["small"]!.weight, 8, decisions["small"]!.reason)
        let held = decisions.mapValues(\.weight)
        for second in stride(from: Int64(62), through: 120, by: 2) { round(second, 1.6, 0.8, 0.8) }
        XCTAssertEqual(decisions.mapValues(\.weight), held, "no drift while the small one is held at its floor")
        XCTAssertTrue(decisions["large"]!.reason.contains("vs 0.80 reference, within 10%"), decisions["large"]!.reason)
        // Between themselves the two still balance: the busier of them loses weight to the other.
        round(122, 1.6, 1.2, 0.6)
        XCTAssertLessThan(decisions["middle"]!.weight, held["middle"]!)
        XCTAssertGreaterThan(decisions["large"]!.weight, held["large"]!)
    }

    func testServersWithoutAReadingKeepTheirWeightAndUnknownKeysAreIgnored() {
        var group = LoadFeedbackGroup<String>()
        group.add("a", baseWeight: 32, admittedAt: nil, now: t0)
        group.add("b", baseWeight: 20, admittedAt: nil, now: t0)
        let decisions = group.apply(["a": .load(perCPU: 3, at: t0), "ghost": .load(perCPU: 0, at: t0)], now: t0)
        XCTAssertEqual(Set(decisions.keys), ["a"])
        XCTAssertEqual(group.states["b"]?.weight, 20)
    }

    func testReconfiguringTheBaseWeightKeepsTheFactor() {
        var group = LoadFeedbackGroup<String>()
        group.add("a", baseWeight: 32, admittedAt: nil, now: t0)
        group.add("b", baseWeight: 32, admittedAt: nil, now: t0)
        for minute in Int64(0)..<5 {
            let now = t0 + .seconds(minute * 60)
            _ = group.apply(["a": .load(perCPU: 2, at: now), "b": .load(perCPU: 0.5, at: now)], now: now)
        }
        let factor = group.states["a"]!.factor
        let decision = group.add("a", baseWeight: 64, admittedAt: nil, now: t0 + .seconds(300))
        XCTAssertEqual(decision.weight, Int((64 * factor).rounded()))
        XCTAssertTrue(decision.changed)
        group.remove("b")
        XCTAssertNil(group.states["b"])
    }
}
