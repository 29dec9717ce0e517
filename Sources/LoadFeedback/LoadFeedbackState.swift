import NIOCore

/// One real server's load feedback: readings in, weight decisions out. A value type; time is passed in.
///
/// It counts readings and failures, recognises a sample already counted (the agent samples once a minute and is
/// asked more often), turns a sample older than ``WeightPolicy/maximumSampleAge`` into a ``LoadFailure/stale(ageSeconds:)``
/// failure, and asks ``WeightPolicy`` for the weight.
public struct LoadFeedbackState: Sendable, Hashable {
    public struct Counters: Sendable, Hashable {
        /// Readings applied, usable or not.
        public var readings = 0
        /// Distinct load samples used.
        public var samples = 0
        /// Failed readings, in all and by ``LoadFailure/kind``.
        public var failures = 0
        public var failuresByKind: [String: Int] = [:]
        /// Failed readings since the last usable one.
        public var consecutiveFailures = 0
        public var lastFailure: LoadFailure?
    }

    public private(set) var baseWeight: Int
    public var policy: WeightPolicy
    /// The weight decided last.
    public private(set) var weight: Int
    /// Why, as a sentence.
    public private(set) var reason: String
    /// The weight as a multiple of ``baseWeight``, unrounded: the policy's state.
    public private(set) var factor: Double = 1
    /// When the server was (re)admitted; nil if it was serving when the director started (no slow start).
    public private(set) var admittedAt: NIODeadline?
    /// The last usable load per CPU and when it was measured.
    public private(set) var lastLoad: Double?
    public private(set) var lastSampleAt: NIODeadline?
    /// What the last usable figure was: the load average (at first) or the agent's live figure.
    public private(set) var signal: LoadSignal = .loadAverage
    public private(set) var counters = Counters()
    /// Start of the current stretch without usable load: creation, or the last usable reading.
    private var lastUsableAt: NIODeadline
    /// Said once, in the reason of the next decision, after ``start(atCapacityShare:because:)``.
    private var startNote: String?

    /// - Parameters:
    ///   - admittedAt: when the server was admitted, to start it slowly; nil for a server already serving.
    ///   - now: the current time.
    public init(baseWeight: Int, policy: WeightPolicy = .init(), admittedAt: NIODeadline?, now: NIODeadline) {
        self.baseWeight = baseWeight
        self.policy = policy
        self.admittedAt = admittedAt
        self.lastUsableAt = now
        self.weight = 0
        self.reason = ""
        _ = decideWithoutReading(now: now)
    }

    /// The server comes back (health checks passed again): start slowly from weight 1, forget the old factor (and
    /// start from capacity again).
    @discardableResult
    public mutating func readmit(at now: NIODeadline) -> WeightDecision {
        admittedAt = now
        factor = 1
        startedFromCapacity = false
        lastUsableAt = now
        lastSampleAt = nil
        lastLoad = nil
        return decideWithoutReading(now: now)
    }

    /// Whether ``start(atCapacityShare:because:)`` was applied since the server was created or readmitted.
    public private(set) var startedFromCapacity = false

    /// Starts the factor at `share` of the configured weight (kept within ``WeightPolicy/minimumFactor`` ... 1),
    /// before the reading of the round is applied; `note` says why in the next decision's reason (unless the factor
    /// stays 1). Once per (re)admission: ``LoadFeedbackGroup`` calls it while ``startedFromCapacity`` is false.
    public mutating func start(atCapacityShare share: Double, because note: String) {
        guard share.isFinite, share > 0 else { return }
        factor = min(1, max(policy.minimumFactor, share))
        // The largest server keeps its configured weight: nothing to say.
        startNote = factor < 1 ? note : nil
        startedFromCapacity = true
    }

    /// The weight now without a new reading: follows the slow start and the configured weight.
    @discardableResult
    public mutating func decideWithoutReading(now: NIODeadline) -> WeightDecision {
        decide(.none, now: now)
    }

    /// The configured weight changed (reload): the factor is kept, so the weight scales with it.
    public mutating func reconfigure(baseWeight: Int, policy: WeightPolicy) {
        self.baseWeight = baseWeight
        self.policy = policy
    }

    /// Whether the server is still in its slow start.
    public func inSlowStart(at now: NIODeadline) -> Bool {
        guard let admittedAt else { return false }
        return now - admittedAt < policy.slowStart
    }

    /// The load per CPU of `reading` if it is usable now (a load, not older than the policy allows).
    public func usableLoad(_ reading: LoadReading, now: NIODeadline) -> Double? {
        if case .success(let (load, _, _)) = classify(reading, now: now) { return load }
        return nil
    }

    /// Takes a reading and decides the weight.
    ///
    /// A reading's ``LoadSignal`` picks the policy (``WeightPolicy/adapted(to:)``): a live figure moves the weight
    /// with a time constant from its window, a load average as before. A server whose figures are live and whose
    /// agent then times out is taken as saturated (``WeightPolicy/saturatedLoad(for:reference:)``) for up to
    /// ``WeightPolicy/holdTimeout``, so a server too busy to answer loses weight instead of keeping it: the agent
    /// answers in microseconds when the server has CPU to spare.
    ///
    /// - Parameter reference: the load per CPU to compare with (``LoadFeedbackGroup`` passes its peers' geometric
    ///   mean); nil compares with ``WeightPolicy/targetLoad``.
    public mutating func apply(_ reading: LoadReading, now: NIODeadline, reference: Double? = nil) -> WeightDecision {
        counters.readings += 1
        let sinceAdmission = admittedAt.map { now - $0 }
        let reference = reference ?? policy.targetLoad
        let evidence: WeightPolicy.Evidence
        switch classify(reading, now: now) {
        case .success(let (load, at, signal)):
            counters.consecutiveFailures = 0
            lastUsableAt = now
            self.signal = signal
            let accountsFor = account(sampleAt: at, load: load, sinceAdmission: sinceAdmission, signal: signal)
            evidence = .load(perCPU: load, reference: reference, accountsFor: accountsFor, signal: signal)
        case .failure(let failure):
            counters.failures += 1
            counters.consecutiveFailures += 1
            counters.failuresByKind[failure.kind, default: 0] += 1
            counters.lastFailure = failure
            if case .timedOut = failure, signal.isLive, now - lastUsableAt < policy.holdTimeout {
                let load = policy.saturatedLoad(for: signal, reference: reference)
                let accountsFor = account(sampleAt: now, load: load, sinceAdmission: sinceAdmission, signal: signal)
                evidence = .load(
                    perCPU: load, reference: reference, accountsFor: accountsFor, signal: signal, assumedFrom: failure)
            } else {
                evidence = .missing(since: now - lastUsableAt, failure: failure)
            }
        }
        return decide(evidence, now: now)
    }

    /// Records a sample measured at `at` and returns the time it accounts for: since the previous sample, zero for
    /// one already counted (closer than the signal's ``WeightPolicy/sameSampleWindow``); the first since
    /// (re)admission stands for the time since then, at most one time constant.
    private mutating func account(sampleAt at: NIODeadline, load: Double, sinceAdmission: TimeAmount?, signal: LoadSignal)
        -> TimeAmount
    {
        let active = policy.adapted(to: signal)
        let accountsFor: TimeAmount
        if let last = lastSampleAt {
            accountsFor = at - last >= active.sameSampleWindow ? at - last : .zero
        } else {
            accountsFor = min(sinceAdmission ?? active.timeConstant, active.timeConstant)
        }
        if accountsFor > .zero || lastSampleAt == nil {
            lastSampleAt = at
            lastLoad = load
            counters.samples += 1
        }
        return accountsFor
    }

    private mutating func decide(_ evidence: WeightPolicy.Evidence, now: NIODeadline) -> WeightDecision {
        let outcome = policy.decide(
            .init(baseWeight: baseWeight, factor: factor, sinceAdmission: admittedAt.map { now - $0 }, evidence: evidence))
        let changed = outcome.weight != weight
        factor = outcome.factor
        weight = outcome.weight
        reason = outcome.reason
        if let note = startNote {
            reason += "; \(note)"
            startNote = nil
        }
        return WeightDecision(weight: weight, reason: reason, changed: changed)
    }

    private func classify(_ reading: LoadReading, now: NIODeadline)
        -> Result<(Double, NIODeadline, LoadSignal), LoadFailure>
    {
        switch reading {
        case .failed(let failure):
            return .failure(failure)
        case .load(let load, let at, let signal, _):
            if now - at > policy.adapted(to: signal).maximumSampleAge {
                return .failure(.stale(ageSeconds: (now - at).seconds))
            }
            guard load.isFinite, load >= 0, load <= LoadReading.maximumLoad else { return .failure(.implausible(load)) }
            return .success((load, at, signal))
        }
    }
}
