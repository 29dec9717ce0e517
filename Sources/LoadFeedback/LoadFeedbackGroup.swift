#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// The load feedback of the real servers of one virtual service: each server's weight follows its load compared
/// with its peers'. A value type keyed by whatever identifies a real server for the caller.
///
/// Each round, the reference load is the geometric mean of the usable loads (floored at
/// ``WeightPolicy/loadFloor``) of the servers past their slow start and configured with a weight above 0; a server
/// in its slow start or at weight 0 is underloaded by design and would pull the reference down. With the geometric
/// mean the corrections of the servers cancel out in the product of the weights: the weights move load from server
/// to server and stay on the scale they started on.
///
/// **Start from capacity.** A live figure states the server's CPU capacity (``LoadReading/capacity``). When at
/// least two servers of the group state one in a round, each server not yet started so since it was added or
/// readmitted starts at `(capacity / base) / max over the group (capacity / base)` of its configured weight (at least
/// ``WeightPolicy/minimumFactor``): the largest server per configured weight keeps its weight, the others start in
/// proportion to what they can do. Servers configured alike but 1:2:4 apart start at 1/4, 1/2 and 1; servers
/// configured in proportion to their capacities start where they are. Under lblc a weight caps the connections a
/// server queues before its sites move, so this bounds every server's queue to about the same time from the first
/// seconds on, instead of after the time the loop takes to find the difference (docs/weights.md).
public struct LoadFeedbackGroup<Key: Hashable & Sendable>: Sendable {
    public private(set) var states: [Key: LoadFeedbackState] = [:]
    public var policy: WeightPolicy

    public init(policy: WeightPolicy = .init()) {
        self.policy = policy
    }

    /// Adds a server, or changes its configured weight. `admittedAt` nil: it was serving already (no slow start).
    @discardableResult
    public mutating func add(_ key: Key, baseWeight: Int, admittedAt: NIODeadline?, now: NIODeadline) -> WeightDecision {
        if var state = states[key] {
            state.reconfigure(baseWeight: baseWeight, policy: policy)
            let decision = state.decideWithoutReading(now: now)
            states[key] = state
            return decision
        }
        let state = LoadFeedbackState(baseWeight: baseWeight, policy: policy, admittedAt: admittedAt, now: now)
        states[key] = state
        return WeightDecision(weight: state.weight, reason: state.reason, changed: true)
    }

    /// The server passed its health checks again after a failure: slow start.
    @discardableResult
    public mutating func readmit(_ key: Key, at now: NIODeadline) -> WeightDecision? {
        states[key]?.readmit(at: now)
    }

    public mutating func remove(_ key: Key) {
        states[key] = nil
    }

    /// The reference load for `readings`: the geometric mean of the usable loads of servers past their slow start
    /// (of all servers with a usable load if every one is in its slow start); nil without any usable load.
    ///
    /// Anti-windup: a server held at its lowest factor whose load is still above that mean by more than the
    /// tolerance (or at its highest and still below) cannot take its share of the correction. Left in the mean, its
    /// share would go to every other server instead, round after round: the others' weights would drift up (a weight
    /// caps an lblc server's queue) for as long as the smallest sits at its floor. Such servers are left out of the
    /// mean, unless every server is.
    public func reference(for readings: [Key: LoadReading], now: NIODeadline) -> Double? {
        var established: [(load: Double, factor: Double)] = []
        var starting: [(load: Double, factor: Double)] = []
        for (key, reading) in readings {
            // A server configured at weight 0 takes no new work: its low load says nothing about the others.
            guard let state = states[key], state.baseWeight > 0, let load = state.usableLoad(reading, now: now) else {
                continue
            }
            // The floor of the reading's own kind of figure (requests in flight are on another scale).
            guard case .load(_, _, let signal, _) = reading else { continue }
            let floored = max(load, policy.adapted(to: signal).loadFloor)
            if state.inSlowStart(at: now) {
                starting.append((floored, state.factor))
            } else {
                established.append((floored, state.factor))
            }
        }
        let loads = established.isEmpty ? starting : established
        guard !loads.isEmpty else { return nil }
        func geometricMean(_ values: [Double]) -> Double { exp(values.map { log($0) }.reduce(0, +) / Double(values.count)) }
        let all = geometricMean(loads.map(\.load))
        let margin = 1 + policy.tolerance
        let free = loads.filter { server in
            let heldLow = server.factor <= policy.minimumFactor * (1 + 1e-9) && server.load > all * margin
            let heldHigh = server.factor >= policy.maximumFactor * (1 - 1e-9) && server.load * margin < all
            return !(heldLow || heldHigh)
        }
        return free.isEmpty || free.count == loads.count ? all : geometricMean(free.map(\.load))
    }

    /// Each server's stated capacity per configured weight, for servers with a base above 0 and a usable reading
    /// that states one.
    private func capacitiesPerWeight(_ readings: [Key: LoadReading]) -> [Key: Double] {
        var result: [Key: Double] = [:]
        for (key, reading) in readings {
            guard let state = states[key], state.baseWeight > 0, let capacity = reading.capacity else { continue }
            result[key] = capacity / Double(state.baseWeight)
        }
        return result
    }

    /// Applies one round of readings; servers without a reading this round keep their weight and are not
    /// returned. Readings for unknown keys are ignored.
    public mutating func apply(_ readings: [Key: LoadReading], now: NIODeadline) -> [Key: WeightDecision] {
        // The start first: the reference then sees the started factors (a server started at its floor and busy is
        // held there, and leaves the mean).
        let perWeight = capacitiesPerWeight(readings)
        if perWeight.count >= 2, let largest = perWeight.values.max() {
            for (key, own) in perWeight {
                guard var state = states[key], !state.startedFromCapacity, let capacity = readings[key]?.capacity else {
                    continue
                }
                state.start(
                    atCapacityShare: own / largest,
                    because: "started from capacity \(fixed(capacity)) CPUs, \(fixed(own / largest)) of the largest per weight")
                states[key] = state
            }
        }
        let reference = self.reference(for: readings, now: now)
        var decisions: [Key: WeightDecision] = [:]
        for (key, reading) in readings {
            guard var state = states[key] else { continue }
            decisions[key] = state.apply(reading, now: now, reference: reference)
            states[key] = state
        }
        return decisions
    }
}
