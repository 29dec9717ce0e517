#if canImport(Glibc)
import Glibc
#endif
import LoadFeedback
import NIOCore

/// The configured weights, never changed.
struct StaticController: SimulatedController {
    let name = "static"
    var weights: [Int]
    mutating func update(reported: [Double], interval: Int) {}
}

/// Piranha's nanny (adjustWeight in nanny.c, piranha 0.8.6), one instance per server, as the reference policy:
/// slow start doubling from weight >> 5; then `scale = weight / 2`; load < 1: `new = last + scale * cbrt(1 - load)`
/// capped at 10 * weight; load > 1: `new = last - scale * cbrt(load - 1)` floored at weight; applied only if
/// |new - last| >= weight / 4; C integer truncation. It is given the load per CPU (nanny itself used the raw
/// load average, which penalises servers with more CPUs).
struct NannyController: SimulatedController {
    let name = "nanny"
    let base: [Int]
    var weights: [Int]
    let scale = 10

    init(base: [Int]) {
        self.base = base
        self.weights = base.map { max(1, $0 >> 5) }
    }

    static func adjust(last: Int, weight: Int, load: Double, scale: Int) -> Int {
        if last < weight { return min(last << 1, weight) }
        guard load >= 0, load != 1 else { return last }
        let scaleFactor = Double(weight) / 2
        var new: Int
        if load < 1 {
            new = Int(Double(last) + scaleFactor * pow(1 - load, 1.0 / 3))
            new = min(new, scale * weight)
        } else {
            new = Int(Double(last) - scaleFactor * pow(load - 1, 1.0 / 3))
            new = max(new, weight)
        }
        return Float(abs(new - last)) >= Float(weight) / 4 ? new : last
    }

    mutating func update(reported: [Double], interval: Int) {
        weights = weights.indices.map {
            Self.adjust(last: weights[$0], weight: base[$0], load: reported[$0], scale: scale)
        }
    }
}

/// h2e: a ``LoadFeedbackGroup`` fed with agent readings, one sample per interval: load averages measured one
/// interval before (the cron sample), or live figures measured at receive time.
struct H2EController: SimulatedController {
    let name = "h2e"
    var group: LoadFeedbackGroup<Int>
    var weights: [Int]
    /// The director's clock: one interval per update, however many simulations the controller goes through.
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
    let interval: TimeAmount
    let signal: LoadSignal

    init(base: [Int], policy: WeightPolicy = .init(), interval: TimeAmount = .seconds(20), signal: LoadSignal = .loadAverage) {
        self.interval = interval
        self.signal = signal
        self.group = LoadFeedbackGroup(policy: policy)
        self.weights = base
        for (server, weight) in base.enumerated() {
            group.add(server, baseWeight: weight, admittedAt: nil, now: now)
        }
    }

    /// The server comes back after a failure.
    mutating func readmit(_ server: Int) {
        if let decision = group.readmit(server, at: now) { weights[server] = decision.weight }
    }

    mutating func update(reported: [Double], interval index: Int) {
        now = now + interval
        let measured = signal.isLive ? now : now - interval
        let readings = Dictionary(
            uniqueKeysWithValues: reported.enumerated().map {
                ($0, LoadReading.load(perCPU: $1, at: measured, signal: signal))
            })
        let decisions = group.apply(readings, now: now)
        weights = weights.indices.map { decisions[$0]?.weight ?? weights[$0] }
    }
}

/// The proportional rule first suggested for h2e, for comparison: `target = base * clamp(targetLoad / max(load,
/// floor), 1/4, 4)`, smoothed by an EWMA. Without integral action it settles with weights ~ sqrt(capacity).
struct ProportionalController: SimulatedController {
    let name = "proportional"
    let base: [Int]
    var factors: [Double]
    var weights: [Int]
    var targetLoad = 0.7
    var smoothing = 0.3

    init(base: [Int]) {
        self.base = base
        self.factors = base.map { _ in 1 }
        self.weights = base
    }

    mutating func update(reported: [Double], interval: Int) {
        for server in base.indices {
            let target = min(4, max(0.25, targetLoad / max(reported[server], 0.2)))
            factors[server] += smoothing * (target - factors[server])
        }
        weights = base.indices.map { max(1, Int((Double(base[$0]) * factors[$0]).rounded())) }
    }
}
