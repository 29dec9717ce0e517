import AgentWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// The weight policy: from a server's load per CPU, the load of its peers, its configured weight, its previous
/// weight and the time since it was (re)admitted, to a new weight and a sentence saying why. Pure: no clock, no
/// I/O; docs/weights.md explains every number.
///
/// In short, with `base` the configured weight and `f` the weight as a multiple of it (`weight = base * f`):
/// - The goal is the same load per CPU on every server of a virtual service. The reference is the geometric mean
///   of the peers' loads (``LoadFeedbackGroup``), or ``targetLoad`` for a server on its own. Loads below
///   ``loadFloor`` count as the floor: idle servers are equally idle.
/// - A server whose load differs from the reference by less than ``tolerance`` keeps its weight (hysteresis).
///   Otherwise `f` moves towards the weight that would bring its load to the reference, assuming load follows
///   weight: `f *= (reference / load) ^ alpha`, with `alpha = 1 - exp(-dt / timeConstant)` for the time `dt`
///   between two samples, at most ``maximumStep``. Each new sample counts once.
/// - `f` stays within ``minimumFactor`` ... ``maximumFactor``, the weight is at least 1: load alone never takes a
///   server out.
/// - A server (re)admitted less than ``slowStart`` ago gets at most `base * elapsed / slowStart` (at least 1), and
///   its `f` stays at most 1 meanwhile.
/// - Without a usable load the weight is held; after ``holdTimeout`` it returns to `base`.
/// - The numbers above are for the load average (``LoadSignal/loadAverage``); a live figure is followed faster,
///   with a time constant taken from its window (``adapted(to:)``).
public struct WeightPolicy: Sendable, Hashable {
    /// Lowest weight as a fraction of the configured weight (1/4: 8 for 32).
    public var minimumFactor: Double
    /// Highest weight as a multiple of the configured weight (4: 128 for 32).
    public var maximumFactor: Double
    /// Highest weight at all, whatever the configured weight and the factor (the director passes IPVS's limit).
    public var maximumWeight: Int
    /// Loads per CPU below this count as this: below it servers are all "idle" and nothing is moved.
    public var loadFloor: Double
    /// Reference load per CPU for a server judged on its own (no peers with a usable load).
    public var targetLoad: Double
    /// Relative load difference ignored (0.1: a load within 10% of the reference keeps the weight).
    public var tolerance: Double
    /// Time constant of the correction: after a sample `dt` seconds after the previous one, the weight moves a
    /// fraction `1 - exp(-dt / timeConstant)` of the way (in ratio) towards the weight that would equalise the load.
    public var timeConstant: TimeAmount
    /// The largest fraction moved on one sample (1/4: the most a loop delayed by one sample takes without
    /// overshooting).
    public var maximumStep: Double
    /// The largest ratio one sample changes the weight by, up or down (infinity: only ``maximumStep`` bounds it).
    /// A slew limit for figures that do not follow the weight in proportion (requests in flight grow with the queue,
    /// far faster than the weight that fills it).
    public var maximumChange: Double
    /// Length of the slow start after a (re)admission.
    public var slowStart: TimeAmount
    /// How long the last weight is held without a usable load before returning to the configured weight.
    public var holdTimeout: TimeAmount
    /// Oldest load sample used.
    public var maximumSampleAge: TimeAmount
    /// Samples measured closer together than this are the same sample (the agent samples once a minute and is
    /// asked more often).
    public var sameSampleWindow: TimeAmount

    public init(
        minimumFactor: Double = 0.25,
        maximumFactor: Double = 4,
        maximumWeight: Int = Int(Int32.max),
        loadFloor: Double = 0.2,
        targetLoad: Double = 0.7,
        tolerance: Double = 0.1,
        timeConstant: TimeAmount = .seconds(240),
        maximumStep: Double = 0.25,
        maximumChange: Double = .infinity,
        slowStart: TimeAmount = .seconds(60),
        holdTimeout: TimeAmount = .seconds(180),
        maximumSampleAge: TimeAmount = .seconds(Int64(LoadDocument.staleAfterSeconds)),
        sameSampleWindow: TimeAmount = .seconds(5)
    ) {
        self.minimumFactor = minimumFactor
        self.maximumFactor = maximumFactor
        self.maximumWeight = maximumWeight
        self.loadFloor = loadFloor
        self.targetLoad = targetLoad
        self.tolerance = tolerance
        self.timeConstant = timeConstant
        self.maximumStep = maximumStep
        self.maximumChange = maximumChange
        self.slowStart = slowStart
        self.holdTimeout = holdTimeout
        self.maximumSampleAge = maximumSampleAge
        self.sameSampleWindow = sameSampleWindow
    }

    /// The time constant of the live loop per second of the figure's window: the figure averages the last window,
    /// so a weight change shows in full one window later (its mean delay is half a window, plus a weight
    /// interval); τ = window keeps that delay well under τ / e, the limit for no overshoot (docs/weights.md).
    public static let liveTimeConstantPerWindow: Double = 1
    /// The shortest live time constant, for the short windows right after an agent starts (noisy figures).
    public static let liveMinimumTimeConstant: TimeAmount = .seconds(5)
    /// The largest fraction of the correction moved on one live figure: after a gap the figure still covers only
    /// its window, and the weight-to-load gain is not known exactly.
    public static let liveMaximumStep: Double = 0.5
    /// The load assumed for a live agent that does not answer in time: the live figure's top (all of the capacity
    /// used and every period throttled).
    public static let liveSaturatedLoad: Double = 2
    /// Requests in flight per CPU below this count as this (``LoadSignal/inFlight(window:)``): less than one
    /// request per CPU waits for nothing, so such servers are all "idle".
    public static let inFlightFloor: Double = 1
    /// How many times its peers' reference an in-flight agent that does not answer in time is taken to carry: the
    /// figure has no top, so "saturated" is a figure far enough above the reference that each such reading takes
    /// the full slew-limited step down (``inFlightMaximumChange``).
    public static let inFlightSaturatedMultiple: Double = 4
    /// The most one in-flight figure changes a weight by (``maximumChange``): a queue of 20 against peers' 1 would
    /// otherwise move it 2x in one reading, and the queue it then builds elsewhere moves it back (measured in
    /// bench-balance: weights swinging between 13 and 128). At 1.25, from the configured weight to a quarter of it
    /// takes 7 readings (14 s at `weight_interval = 2`).
    public static let inFlightMaximumChange: Double = 1.25

    /// The figure assumed for a server whose live agent does not answer in time, against `reference`.
    public func saturatedLoad(for signal: LoadSignal, reference: Double) -> Double {
        switch signal {
        case .inFlight: max(reference, adapted(to: signal).loadFloor) * Self.inFlightSaturatedMultiple
        case .live, .loadAverage: Self.liveSaturatedLoad
        }
    }

    /// The policy for a figure of `signal`: itself for the load average (today's policy, unchanged); for a live
    /// figure the same bounds, floor, tolerance, slow start and hold, with
    /// - ``timeConstant`` = ``liveTimeConstantPerWindow`` × window (at least ``liveMinimumTimeConstant``),
    /// - ``maximumStep`` = ``liveMaximumStep``,
    /// - ``sameSampleWindow`` zero: each live figure is computed when asked, so every reading is a new sample
    ///   (two readings close together move the weight by the small `1 - exp(-dt / τ)` of their interval);
    /// - for requests in flight, ``loadFloor`` = ``inFlightFloor`` (its figure is on another scale) and
    ///   ``maximumChange`` = ``inFlightMaximumChange``.
    public func adapted(to signal: LoadSignal) -> WeightPolicy {
        guard let window = signal.window else { return self }
        var live = self
        if case .inFlight = signal {
            live.loadFloor = Self.inFlightFloor
            live.maximumChange = Self.inFlightMaximumChange
        }
        let scaled = TimeAmount.nanoseconds(Int64(Double(window.nanoseconds) * Self.liveTimeConstantPerWindow))
        live.timeConstant = max(scaled, Self.liveMinimumTimeConstant)
        live.maximumStep = Self.liveMaximumStep
        live.sameSampleWindow = .zero
        return live
    }

    /// The lowest weight load feedback gives a server configured at `base`: `base` × ``minimumFactor``, at least 1
    /// (0 for a configured 0).
    public func minimumWeight(base: Int) -> Int {
        base > 0 ? max(1, Int((Double(base) * minimumFactor).rounded())) : 0
    }

    /// What is known about the server's load this time.
    public enum Evidence: Sendable, Hashable {
        /// A usable load per CPU, the reference it is compared with, and the time it accounts for: the interval
        /// since the previous sample for a new sample, zero for one already counted. `signal` says what the figure
        /// is (and so how fast to move, ``adapted(to:)``); `assumedFrom` is set when there was no figure and the
        /// load is what the failure implies (a live agent that does not answer in time is taken as saturated).
        case load(
            perCPU: Double, reference: Double, accountsFor: TimeAmount, signal: LoadSignal = .loadAverage,
            assumedFrom: LoadFailure? = nil)
        /// No usable load for `since`, the last failure being `failure`.
        case missing(since: TimeAmount, failure: LoadFailure)
        /// No new reading: just created, readmitted or reconfigured, or only the slow start moves on.
        case none
    }

    public struct Input: Sendable, Hashable {
        /// The configured weight.
        public var baseWeight: Int
        /// The previous weight as a multiple of the configured one, unrounded (1 at first).
        public var factor: Double
        /// Time since the server was (re)admitted; nil for a server already serving when the director started.
        public var sinceAdmission: TimeAmount?
        public var evidence: Evidence

        public init(baseWeight: Int, factor: Double, sinceAdmission: TimeAmount?, evidence: Evidence) {
            self.baseWeight = baseWeight
            self.factor = factor
            self.sinceAdmission = sinceAdmission
            self.evidence = evidence
        }
    }

    public struct Outcome: Sendable, Hashable {
        /// The new factor, to be passed back next time.
        public var factor: Double
        public var weight: Int
        /// Why, e.g. `weight 18: load 1.70/cpu vs 0.95 reference, base 32`.
        public var reason: String
    }

    public func decide(_ input: Input) -> Outcome {
        let base = input.baseWeight
        guard base > 0 else {
            return Outcome(factor: 1, weight: 0, reason: "weight 0: configured weight 0")
        }
        var factor = input.factor.isFinite && input.factor > 0 ? input.factor : 1
        var why: String
        switch input.evidence {
        case .load(let load, let reference, _, _, _)
        where !(load.isFinite && load >= 0 && reference.isFinite && reference >= 0):
            // Readings are validated before; a total function all the same: never NaN into a weight.
            why = "held, implausible load \(load) or reference \(reference)"
        case .load(let load, let reference, let accountsFor, let signal, let assumedFrom):
            let policy = adapted(to: signal)
            let effectiveLoad = max(load, policy.loadFloor)
            let effectiveReference = max(reference, policy.loadFloor)
            let ratio = effectiveReference / effectiveLoad
            var comparison: String
            switch signal {
            case .loadAverage: comparison = "load \(fixed(load))/cpu"
            case .live(let window): comparison = "live load \(fixed(load)) (\(window.secondsText))"
            case .inFlight(let window): comparison = "\(fixed(load)) in flight/cpu (\(window.secondsText))"
            }
            comparison += " vs \(fixed(reference)) reference"
            if let assumedFrom { comparison = "no answer (\(assumedFrom.kind)), taken as saturated: " + comparison }
            let (lowest, highest) = (policy.minimumFactor, policy.maximumFactor)
            if abs(log(ratio)) < log(1 + tolerance) {
                factor = min(highest, max(lowest, factor))
                why = "\(comparison), within \(percent(tolerance))"
            } else {
                let alpha = min(policy.maximumStep, 1 - exp(-accountsFor.seconds / policy.timeConstant.seconds))
                let change = min(policy.maximumChange, max(1 / policy.maximumChange, pow(ratio, alpha)))
                factor = min(highest, max(lowest, factor * change))
                why = comparison
                if factor == lowest {
                    why += ", at the lowest (\(fraction(lowest)) of base)"
                } else if factor == highest {
                    why += ", at the highest (\(fixed(highest)) x base)"
                }
            }
        case .missing(let since, let failure):
            if since < holdTimeout {
                why = "held, no usable load for \(Int(since.seconds)) s: \(failure)"
            } else {
                factor = 1
                why = "configured, no usable load for \(Int(since.seconds)) s: \(failure)"
            }
        case .none:
            factor = min(maximumFactor, max(minimumFactor, factor))
            why = factor == 1 ? "configured" : "kept at \(fixed(factor)) x base"
        }
        var effective = factor
        if let elapsed = input.sinceAdmission, elapsed < slowStart {
            // Anti-windup: a newcomer is idle by design; its state stays at most at the configured weight, so the
            // weight continues from there after the slow start instead of jumping.
            factor = min(factor, 1)
            effective = factor
            let ramp = max(elapsed.seconds / slowStart.seconds, 1 / Double(base))
            if factor > ramp {
                effective = ramp
                why = "slow start \(Int(elapsed.seconds)) of \(Int(slowStart.seconds)) s"
            }
        }
        let wanted = (Double(base) * effective).rounded()
        if wanted > Double(maximumWeight) { why += ", at the table's highest weight \(maximumWeight)" }
        let weight = max(1, Int(min(wanted, Double(maximumWeight))))
        return Outcome(factor: factor, weight: weight, reason: "weight \(weight): \(why), base \(base)")
    }
}

extension TimeAmount {
    var seconds: Double { Double(nanoseconds) / 1e9 }
}

/// "1.70": two decimals, for reasons.
func fixed(_ value: Double) -> String {
    guard value.isFinite else { return "\(value)" }
    let hundredths = Int((abs(value) * 100).rounded())
    let fraction = hundredths % 100
    return (value < 0 ? "-" : "") + "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
}

/// "10%".
func percent(_ value: Double) -> String { "\(Int((value * 100).rounded()))%" }

/// "1/4" for 0.25, else two decimals.
func fraction(_ value: Double) -> String {
    let inverse = 1 / value
    return inverse == inverse.rounded() ? "1/\(Int(inverse))" : fixed(value)
}
