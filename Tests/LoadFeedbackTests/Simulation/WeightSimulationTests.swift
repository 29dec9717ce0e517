#if canImport(Glibc)
import Glibc
#endif
import LoadFeedback
import XCTest

/// Closed-loop proof of the weight policy on a fluid model (``FluidCluster``): three servers of capacity 1x, 2x and
/// 4x with the same configured weight 32, weights updated every 20 s from loads reported one interval late.
final class WeightSimulationTests: XCTestCase {
    static let capacities: [Double] = [1, 2, 4]
    static let base = [32, 32, 32]
    static let intervals = 200
    /// Steady state: the second half of the run.
    static let steady = 100

    struct Scenario: CustomStringConvertible {
        var demand: Double
        var loadAverage: Bool
        var noise: Double = 0
        var cluster: FluidCluster {
            FluidCluster(
                capacities: WeightSimulationTests.capacities, demandFraction: demand,
                loadAverageMemory: loadAverage ? exp(-20.0 / 60) : 0, noise: noise)
        }
        var description: String { "demand \(demand) of capacity, \(report)" }
        var report: String {
            (loadAverage ? "loadavg" : "instant") + (noise > 0 ? "+-\(Int(noise * 100))%" : "")
        }
    }

    static let scenarios: [Scenario] = [0.5, 0.8, 1.0, 1.3].flatMap { demand in
        [false, true].map { Scenario(demand: demand, loadAverage: $0) }
    }

    struct Row {
        var scenario: Scenario
        var results: [SimulationResult]
        func result(_ name: String) -> SimulationResult { results.first { $0.name == name }! }
    }

    static func run(_ scenario: Scenario) -> Row {
        var fixed = StaticController(weights: base)
        var nanny = NannyController(base: base)
        var h2e = H2EController(base: base)
        var proportional = ProportionalController(base: base)
        let cluster = scenario.cluster
        return Row(
            scenario: scenario,
            results: [
                simulate(&fixed, in: cluster, intervals: intervals),
                simulate(&nanny, in: cluster, intervals: intervals),
                simulate(&proportional, in: cluster, intervals: intervals),
                simulate(&h2e, in: cluster, intervals: intervals),
            ])
    }

    func testH2ESpreadsLoadMoreEvenlyThanStaticAndNoWorseThanNanny() {
        for row in Self.scenarios.map(Self.run) {
            let h2e = row.result("h2e").imbalance(from: Self.steady)
            let fixed = row.result("static").imbalance(from: Self.steady)
            let nanny = row.result("nanny").imbalance(from: Self.steady)
            XCTAssertLessThan(h2e, fixed, "\(row.scenario)")
            XCTAssertLessThanOrEqual(h2e, nanny, "\(row.scenario)")
            // Equal per-CPU load needs weights 1:2:4; within the 10% tolerance of the policy.
            XCTAssertLessThan(h2e, 1.1, "\(row.scenario)")
        }
    }

    func testH2EConvergesWithoutOscillation() {
        for row in Self.scenarios.map(Self.run) {
            let h2e = row.result("h2e")
            XCTAssertEqual(h2e.changes(from: 60), 0, "weights still moving after 20 min: \(row.scenario)")
            XCTAssertLessThanOrEqual(h2e.reversals().max()!, 1, "weights oscillate: \(row.scenario)")
            let final = h2e.finalWeights
            XCTAssertTrue(final[0] < final[1] && final[1] < final[2], "\(final) not ordered by capacity")
        }
    }

    func testH2EWeightsStayOnTheScaleOfTheConfiguredWeight() {
        for row in Self.scenarios.map(Self.run) {
            for weights in row.result("h2e").weights {
                for weight in weights {
                    XCTAssertTrue((8...128).contains(weight), "weight \(weight) outside base/4...base*4: \(row.scenario)")
                }
            }
        }
    }

    func testH2EFollowsACapacityChangeWithoutOscillation() {
        // The 4x server loses half its capacity (a heavy site lands elsewhere on it) after the loop settled.
        var h2e = H2EController(base: Self.base)
        var cluster = FluidCluster(capacities: Self.capacities, demandFraction: 0.8, loadAverageMemory: exp(-20.0 / 60))
        var first = simulate(&h2e, in: cluster, intervals: 100)
        cluster.capacities = [1, 2, 2]
        let second = simulate(&h2e, in: cluster, intervals: 100)
        first.weights += second.weights
        first.loads += second.loads
        XCTAssertEqual(second.changes(from: 70), 0, "weights still moving 70 intervals after the change")
        XCTAssertLessThanOrEqual(first.reversals().max()!, 1)
        XCTAssertLessThan(second.imbalance(from: 70), 1.1)
        let final = second.finalWeights
        XCTAssertEqual(Double(final[2]) / Double(final[1]), 1, accuracy: 0.25, "2x and 2x servers: \(final)")
    }

    func testAReadmittedServerStartsSlowlyAndRejoinsWithoutOvershoot() {
        var h2e = H2EController(base: Self.base)
        let cluster = FluidCluster(capacities: Self.capacities, demandFraction: 0.8, loadAverageMemory: exp(-20.0 / 60))
        let before = simulate(&h2e, in: cluster, intervals: 100)
        h2e.readmit(2)
        let after = simulate(&h2e, in: cluster, intervals: 100)
        let ramp = after.weights.prefix(4).map { $0[2] }
        XCTAssertEqual(ramp.first, 1, "starts at 1: \(ramp)")
        XCTAssertEqual(ramp, ramp.sorted(), "ramps up: \(ramp)")
        XCTAssertLessThanOrEqual(ramp.last!, 32, "within the configured weight during the slow start: \(ramp)")
        let path = after.weights.map { $0[2] }
        XCTAssertEqual(path, path.sorted(), "rises to its share without overshoot: \(path)")
        XCTAssertEqual(Double(after.finalWeights[2]), Double(before.finalWeights[2]), accuracy: 0.15 * Double(before.finalWeights[2]))
        XCTAssertEqual(after.changes(from: 70), 0)
    }

    func testNoisyReportsDoNotMakeTheWeightsWander() {
        // Every report off by up to ±10%: the tolerance absorbs most of it.
        for demand in [0.5, 1.0] {
            var h2e = H2EController(base: Self.base)
            var fixed = StaticController(weights: Self.base)
            var nanny = NannyController(base: Self.base)
            let cluster = FluidCluster(
                capacities: Self.capacities, demandFraction: demand, loadAverageMemory: exp(-20.0 / 60), noise: 0.1)
            let result = simulate(&h2e, in: cluster, intervals: Self.intervals)
            let staticResult = simulate(&fixed, in: cluster, intervals: Self.intervals)
            let nannyResult = simulate(&nanny, in: cluster, intervals: Self.intervals)
            XCTAssertLessThan(result.imbalance(from: Self.steady), 1.15, "demand \(demand)")
            XCTAssertLessThan(result.imbalance(from: Self.steady), staticResult.imbalance(from: Self.steady))
            XCTAssertLessThanOrEqual(result.imbalance(from: Self.steady), nannyResult.imbalance(from: Self.steady))
            XCTAssertLessThan(
                result.changes(from: Self.steady), (Self.intervals - Self.steady) / 4, "weights wander, demand \(demand)")
        }
    }

    /// The table for docs/weights.md and the report (also printed by scripts/sim-weights).
    func testPrintsUtilisationTable() {
        let noisy = [0.5, 0.8, 1.0, 1.3].map { Scenario(demand: $0, loadAverage: true, noise: 0.1) }
        let rows = (Self.scenarios + noisy).map(Self.run)
        var lines = [
            "max/mean load per CPU over intervals \(Self.steady)..<\(Self.intervals) (1.000 = even); capacities 1x 2x 4x, base 32",
            "changes: weight changes in those \(Self.intervals - Self.steady) intervals, nanny/h2e; last: last interval with a change",
            "demand  report        static  nanny   propor  h2e     | changes | last    | final weights nanny / h2e",
        ]
        for row in rows {
            let figures = ["static", "nanny", "proportional", "h2e"].map {
                pad(fixed3(row.result($0).imbalance(from: Self.steady)), 7)
            }
            lines.append(
                pad(String(row.scenario.demand), 7) + " " + pad(row.scenario.report, 13) + " "
                    + figures.joined(separator: " ") + " | "
                    + pad("\(row.result("nanny").changes(from: Self.steady))/\(row.result("h2e").changes(from: Self.steady))", 7)
                    + " | " + pad("\(row.result("nanny").lastChange)/\(row.result("h2e").lastChange)", 7)
                    + " | \(row.result("nanny").finalWeights) / \(row.result("h2e").finalWeights)")
        }
        print(lines.joined(separator: "\n"))
        XCTAssertEqual(lines.count, rows.count + 3)
    }
}

func fixed3(_ value: Double) -> String {
    let thousandths = Int((value * 1000).rounded())
    let fraction = String(thousandths % 1000)
    return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
}

func pad(_ text: String, _ width: Int) -> String {
    text + String(repeating: " ", count: max(0, width - text.count))
}
