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
/// in its slow start or at weight 0 is underloaded by design and would pull the reference down. With the geometric mean the corrections of the servers cancel out in
/// the product of the weights: the weights move load from server to server and stay on the scale of the configured
/// weights.
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
    public func reference(for readings: [Key: LoadReading], now: NIODeadline) -> Double? {
        var established: [Double] = []
        var starting: [Double] = []
        for (key, reading) in readings {
            // A server configured at weight 0 takes no new work: its low load says nothing about the others.
            guard let state = states[key], state.baseWeight > 0, let load = state.usableLoad(reading, now: now) else {
                continue
            }
            // The floor of the reading's own kind of figure (requests in flight are on another scale).
            guard case .load(_, _, let signal) = reading else { continue }
            let floored = max(load, policy.adapted(to: signal).loadFloor)
            if state.inSlowStart(at: now) {
                starting.append(floored)
            } else {
                established.append(floored)
            }
        }
        let loads = established.isEmpty ? starting : established
        guard !loads.isEmpty else { return nil }
        return exp(loads.map { log($0) }.reduce(0, +) / Double(loads.count))
    }

    /// Applies one round of readings; servers without a reading this round keep their weight and are not
    /// returned. Readings for unknown keys are ignored.
    public mutating func apply(_ readings: [Key: LoadReading], now: NIODeadline) -> [Key: WeightDecision] {
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
