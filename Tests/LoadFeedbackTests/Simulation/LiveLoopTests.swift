import LoadFeedback
import XCTest

/// The live loop's goal (issue 13): after a step change of one server's load, its weight is within 10 % of where
/// it settles in at most 30 s at weight_interval = 2, with at most one reversal. Simulated time (``LiveStep``),
/// deterministic.
final class LiveLoopTests: XCTestCase {
    /// Halve the 4x or the 1x server, double the 1x or the 2x; at half and at 80 % of the capacity before, with the
    /// saturation term as excess demand (linear) and as CFS throttling (steep near capacity).
    static let steps: [LiveStep] = [LiveAgents.Saturation.excess, .throttled(requests: 6)].flatMap { saturation in
        [0.5, 0.8].flatMap { demand in
            [[1, 2, 2], [0.5, 2, 4], [2, 2, 4], [1, 4, 4]].map {
                LiveStep(after: $0, demand: demand, saturation: saturation)
            }
        }
    }
    static let noisy: [LiveStep] = [[1, 2, 2], [0.5, 2, 4]].map { LiveStep(after: $0, demand: 0.5, noise: 0.05) }
    /// At lvs.cf's default weight_interval = 5 (shown, not asserted: the goal is stated at 2).
    static let slower: [LiveStep] = [[1, 2, 2], [0.5, 2, 4]].map { LiveStep(after: $0, demand: 0.5, interval: 5) }

    func testAStepSettlesWithin30SecondsWithAtMostOneReversal() {
        for step in Self.steps {
            let outcome = step.run()
            XCTAssertLessThanOrEqual(outcome.settleSeconds(step.stepped), 30, "\(step): \(outcome.result.weights)")
            XCTAssertLessThanOrEqual(outcome.reversals, 1, "\(step): \(outcome.result.weights)")
            XCTAssertEqual(outcome.result.changes(from: 30), 0, "\(step): still moving after 60 s")
            XCTAssertLessThan(outcome.result.imbalance(from: 30), 1.15, "\(step): uneven after it settled")
        }
    }

    func testNoisyFiguresStillSettleWithoutWandering() {
        for step in Self.noisy {
            let outcome = step.run()
            XCTAssertLessThanOrEqual(outcome.settleSeconds(step.stepped), 30, "\(step): \(outcome.result.weights)")
            XCTAssertLessThan(outcome.result.imbalance(from: 30), 1.2, "\(step)")
            XCTAssertLessThan(outcome.result.changes(from: 30), 15, "\(step): weights wander")
        }
    }

    /// The table for docs/weights.md (printed by `scripts/sim-weights live`).
    func testPrintsLiveStepTable() {
        var lines = [
            "live loop: window 10 s, base 32; a step at t = 0 after 200 s settled; weight_interval 2 s unless the step says @5 s",
            "settle: seconds until the stepped server's weight stays within 10 % of where it ends; reversals: most of any server",
            "demand  saturation  step                      settle  reversals  max/mean round 30+   weights before -> after",
        ]
        for step in Self.steps + Self.noisy + Self.slower {
            let outcome = step.run()
            let change = step.before.map(fmtCapacity).joined(separator: ":") + " -> "
                + step.after.map(fmtCapacity).joined(separator: ":") + (step.noise > 0 ? " ±\(Int(step.noise * 100))%" : "") + (step.interval != 2 ? " @\(step.interval) s" : "")
            lines.append(
                pad(String(step.demand), 7) + " " + pad("\(step.saturation)", 11) + " " + pad(change, 25) + " " + pad("\(outcome.settleSeconds(step.stepped)) s", 7)
                    + " " + pad("\(outcome.reversals)", 10) + " " + pad(fixed3(outcome.result.imbalance(from: 30)), 20)
                    + " \(outcome.result.weights[0]) -> \(outcome.result.finalWeights)")
        }
        print(lines.joined(separator: "\n"))
        XCTAssertEqual(lines.count, Self.steps.count + Self.noisy.count + Self.slower.count + 3)
    }
}

private func fmtCapacity(_ value: Double) -> String { value == value.rounded() ? "\(Int(value))" : "\(value)" }
