import HostSystem
/// A fluid model of a cluster behind wlc/lblc at saturation: arriving work is spread over the servers in
/// proportion to their weights, and a server's load per CPU is the work it gets divided by its capacity.
/// Optionally, what an agent reports is a load average: an exponential moving average of that load.
struct FluidCluster {
    /// Relative capacities (CPUs x speed), e.g. [1, 2, 4].
    var capacities: [Double]
    /// Offered work in units of a capacity-1 server fully busy; `demandFraction * sum(capacities)`.
    var demand: Double
    /// Fraction of the previous reported figure kept each interval (0: the report is the interval's load;
    /// exp(-20/60) ~ 0.72: Linux's 1-minute load average sampled every 20 s).
    var loadAverageMemory: Double = 0
    /// Relative amplitude of the measurement noise on reported figures (0.1: each report off by up to ±10%),
    /// from a fixed-seed generator so that runs are reproducible.
    var noise: Double = 0

    init(capacities: [Double], demandFraction: Double, loadAverageMemory: Double = 0, noise: Double = 0) {
        self.capacities = capacities
        self.demand = demandFraction * capacities.reduce(0, +)
        self.loadAverageMemory = loadAverageMemory
        self.noise = noise
    }

    /// Load per CPU of each server for these weights.
    func loads(weights: [Int]) -> [Double] {
        let total = Double(weights.reduce(0, +))
        return zip(weights, capacities).map { weight, capacity in
            total > 0 ? demand * Double(weight) / total / capacity : 0
        }
    }
}

/// A weight controller under simulation: sees the reported loads, sets the weights for the next interval.
protocol SimulatedController {
    var name: String { get }
    var weights: [Int] { get }
    /// Called once per interval with the loads the agents report (one interval old).
    mutating func update(reported: [Double], interval: Int)
}

/// What one simulation produced.
struct SimulationResult {
    var name: String
    /// Weights in effect during each interval, and the loads per CPU they produced.
    var weights: [[Int]] = []
    var loads: [[Double]] = []

    /// max/mean of the servers' loads per CPU, averaged over intervals `from...` (1 = perfectly even).
    func imbalance(from start: Int) -> Double {
        let ratios = loads[start...].map { loads in loads.max()! / (loads.reduce(0, +) / Double(loads.count)) }
        return ratios.reduce(0, +) / Double(ratios.count)
    }

    /// Intervals (from `start`) in which some weight changed.
    func changes(from start: Int) -> Int {
        (max(start, 1)..<weights.count).filter { weights[$0] != weights[$0 - 1] }.count
    }

    /// For each server, how often the direction of successive weight changes reversed.
    func reversals() -> [Int] {
        (0..<weights[0].count).map { server in
            let steps = (1..<weights.count).map { weights[$0][server] - weights[$0 - 1][server] }.filter { $0 != 0 }
            return zip(steps, steps.dropFirst()).filter { ($0 > 0) != ($1 > 0) }.count
        }
    }

    var finalWeights: [Int] { weights.last! }

    /// The last interval in which a weight changed (0: never).
    var lastChange: Int { (1..<weights.count).last { weights[$0] != weights[$0 - 1] } ?? 0 }
}

func simulate(_ controller: inout some SimulatedController, in cluster: FluidCluster, intervals: Int) -> SimulationResult {
    var result = SimulationResult(name: controller.name)
    var reported: [Double]? = nil  // the load average the agents report
    var pending: [Double]? = nil  // measured during the last interval, reported in the next
    var random = SplitMix64(seed: 42)
    for interval in 0..<intervals {
        let loads = cluster.loads(weights: controller.weights)
        result.weights.append(controller.weights)
        result.loads.append(loads)
        if let seen = pending {
            controller.update(reported: seen, interval: interval)
        }
        let memory = cluster.loadAverageMemory
        reported = reported.map { old in zip(old, loads).map { memory * $0 + (1 - memory) * $1 } } ?? loads
        pending = reported!.map { $0 * (1 + cluster.noise * (2 * random.nextUnit() - 1)) }
    }
    return result
}

