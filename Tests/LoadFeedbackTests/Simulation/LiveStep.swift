import HostSystem
#if canImport(Glibc)
import Glibc
#endif
import LoadFeedback
import NIOCore

/// The agents of a ``FluidCluster`` seen second by second, each reporting the live figure of the `/load.json`
/// contract: the mean over the last `window` seconds (fewer right after the start) of the utilisation of its
/// capacity (at most 1) plus a saturation term (``Saturation``) for a load per capacity ρ.
struct LiveAgents {
    /// What the saturation term (the share of CFS periods throttled) is in the model.
    enum Saturation: CustomStringConvertible {
        /// The demand beyond capacity, `min(1, max(0, ρ - 1))`: the figure is ρ up to 2 (a linear plant).
        case excess
        /// CFS under a quota of `requests` requests' CPU per period for a capacity-1 server (6 for cpu.max 6 % and
        /// 1 ms requests), Poisson arrivals: below capacity the share of periods whose demand exceeds the quota
        /// (`P(N > q)`, `N ~ Poisson(q ρ)`, `q = requests × capacity`: small servers throttle sooner), at or above
        /// it every period (a backlog). Steep near ρ = 1: a non-linear plant.
        case throttled(requests: Double)

        var description: String {
            switch self {
            case .excess: return "excess"
            case .throttled(let requests): return "cfs q=\(Int(requests))"
            }
        }

        func term(load: Double, capacity: Double) -> Double {
            switch self {
            case .excess:
                return min(1, max(0, load - 1))
            case .throttled(let requests):
                guard load < 1 else { return 1 }
                let quota = requests * capacity
                let mean = quota * load
                // P(N <= quota) by the recurrence p(k) = p(k-1) mean / k.
                var term = exp(-mean)
                var atMost = term
                var k = 1.0
                while k <= quota.rounded(.down) {
                    term *= mean / k
                    atMost += term
                    k += 1
                }
                return max(0, 1 - atMost)
            }
        }
    }

    var window: Int
    var saturation: Saturation
    private var history: [[Double]] = []

    init(window: Int, saturation: Saturation = .excess) {
        self.window = window
        self.saturation = saturation
    }

    /// One second of load per capacity, one per server.
    mutating func record(_ loads: [Double], capacities: [Double]) {
        history.append(zip(loads, capacities).map { load, capacity in
            min(load, 1) + saturation.term(load: load, capacity: capacity)
        })
        if history.count > window { history.removeFirst(history.count - window) }
    }

    /// What each agent answers now.
    var figures: [Double] {
        let servers = history.first?.count ?? 0
        let seconds = Double(history.count)
        return (0..<servers).map { server -> Double in
            let sum: Double = history.reduce(0) { $0 + $1[server] }
            return sum / seconds
        }
    }
}

/// The live loop after a step: three servers behind wlc/lblc at saturation (fluid model), their agents answering the
/// live figure over `window` seconds, the director reading them every `interval` seconds through
/// ``H2EController`` (``LoadFeedbackGroup`` with ``LoadSignal/live(window:)`` readings). The weights settle for
/// `settle` seconds on capacities `before`; then they become `after` (one server's capacity changes, the demand
/// stays) and the run goes on for `length` seconds.
struct LiveStep: CustomStringConvertible {
    var before: [Double] = [1, 2, 4]
    var after: [Double]
    /// Offered work as a fraction of the capacity before the step.
    var demand: Double
    var window = 10
    var interval = 2
    var settle = 200
    var length = 300
    /// Relative amplitude of the noise on each figure (fixed seed).
    var noise = 0.0
    var saturation = LiveAgents.Saturation.excess
    var base = [32, 32, 32]

    /// The server whose capacity changes.
    var stepped: Int { zip(before, after).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0 }

    var description: String {
        "demand \(demand), capacities \(before.map(fmt)) -> \(after.map(fmt))" + (noise > 0 ? ", noise ±\(Int(noise * 100))%" : "") + ", saturation \(saturation)"
    }

    struct Outcome {
        /// From the step on, one entry per round: the weights in effect (the first: those at the step) and the loads
        /// per capacity they produced.
        var result: SimulationResult
        var interval: Int
        var stepped: Int

        /// Seconds from the step until the server's weight stays within 10 % of where it ends (0: it never left).
        func settleSeconds(_ server: Int) -> Int {
            let path = result.weights.map { Double($0[server]) }
            let final = path.last!
            let lastOut = path.indices.last { abs(path[$0] - final) > 0.1 * final }
            return lastOut.map { ($0 + 1) * interval } ?? 0
        }

        /// The most direction reversals of any server's weight after the step.
        var reversals: Int { result.reversals().max()! }
    }

    func run() -> Outcome {
        var controller = H2EController(
            base: base, interval: .seconds(Int64(interval)), signal: .live(window: .seconds(Int64(window))))
        var cluster = FluidCluster(capacities: before, demandFraction: demand)
        var agents = LiveAgents(window: window, saturation: saturation)
        var random = SplitMix64(seed: 42)
        var result = SimulationResult(name: "h2e live")
        for second in 0..<(settle + length) {
            if second == settle { cluster.capacities = after }
            let loads = cluster.loads(weights: controller.weights)
            if second >= settle, (second - settle) % interval == 0 {
                result.weights.append(controller.weights)
                result.loads.append(loads)
            }
            agents.record(loads, capacities: cluster.capacities)
            if (second + 1) % interval == 0 {
                let reported = agents.figures.map { $0 * (1 + noise * (2 * random.nextUnit() - 1)) }
                controller.update(reported: reported, interval: second / interval)
            }
        }
        return Outcome(result: result, interval: interval, stepped: stepped)
    }
}

private func fmt(_ value: Double) -> String { value == value.rounded() ? "\(Int(value))" : "\(value)" }
