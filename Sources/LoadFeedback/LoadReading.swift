import NIOCore

/// One attempt to learn a real server's load: a figure per CPU, the instant it was measured and what kind of figure
/// it is, or why there is none.
///
/// `at` is on the director's clock (``NIODeadline``): for an agent's load average it is the receive time minus the
/// sample's age, so two fetches of the same agent sample carry (nearly) the same instant and ``LoadFeedbackState``
/// counts the sample once; for a live figure (``LoadSignal/live(window:)``) it is the receive time. A live figure
/// (share of capacity used, plus saturation) stands where a load per CPU does: both are 1 for a server just busy.
/// `capacity` is the CPU capacity the agent states with a live figure (`live.capacity`: the cgroup's quota or
/// cpuset, else the online CPUs), nil where none is known; ``LoadFeedbackGroup`` starts weights from it.
public enum LoadReading: Sendable, Hashable {
    case load(perCPU: Double, at: NIODeadline, signal: LoadSignal = .loadAverage, capacity: Double? = nil)
    case failed(LoadFailure)

    /// Loads above this per CPU are treated as garbage, not as a very busy server (the load signals'
    /// ``LoadSignal/maximumLoad``).
    public static let maximumLoad: Double = LoadSignal.loadAverage.maximumLoad

    /// A reading of `value` measured at `at`, or ``LoadFailure/implausible(_:)`` if the value is NaN, infinite,
    /// negative or above the signal's ``LoadSignal/maximumLoad``. A `capacity` that is not a positive finite number
    /// of CPUs is dropped (the figure stays usable; only the start from capacity is lost).
    public static func checked(
        perCPU value: Double, at: NIODeadline, signal: LoadSignal = .loadAverage, capacity: Double? = nil
    ) -> LoadReading {
        guard value.isFinite, value >= 0, value <= signal.maximumLoad else { return .failed(.implausible(value)) }
        let capacity = capacity.flatMap { $0.isFinite && $0 > 0 && $0 < 1e6 ? $0 : nil }
        return .load(perCPU: value, at: at, signal: signal, capacity: capacity)
    }

    /// The stated CPU capacity, if this reading is a load that carries one.
    public var capacity: Double? {
        if case .load(_, _, _, let capacity) = self { return capacity }
        return nil
    }

    /// The failure, if this reading is one.
    public var failure: LoadFailure? {
        if case .failed(let failure) = self { return failure }
        return nil
    }
}
