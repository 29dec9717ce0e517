import NIOCore

/// One attempt to learn a real server's load: a figure per CPU, the instant it was measured and what kind of figure
/// it is, or why there is none.
///
/// `at` is on the director's clock (``NIODeadline``): for an agent's load average it is the receive time minus the
/// sample's age, so two fetches of the same agent sample carry (nearly) the same instant and ``LoadFeedbackState``
/// counts the sample once; for a live figure (``LoadSignal/live(window:)``) it is the receive time. A live figure
/// (share of capacity used, plus saturation) stands where a load per CPU does: both are 1 for a server just busy.
public enum LoadReading: Sendable, Hashable {
    case load(perCPU: Double, at: NIODeadline, signal: LoadSignal = .loadAverage)
    case failed(LoadFailure)

    /// Loads above this per CPU are treated as garbage, not as a very busy server (the load signals'
    /// ``LoadSignal/maximumLoad``).
    public static let maximumLoad: Double = LoadSignal.loadAverage.maximumLoad

    /// A reading of `value` measured at `at`, or ``LoadFailure/implausible(_:)`` if the value is NaN, infinite,
    /// negative or above the signal's ``LoadSignal/maximumLoad``.
    public static func checked(perCPU value: Double, at: NIODeadline, signal: LoadSignal = .loadAverage) -> LoadReading {
        guard value.isFinite, value >= 0, value <= signal.maximumLoad else { return .failed(.implausible(value)) }
        return .load(perCPU: value, at: at, signal: signal)
    }

    /// The failure, if this reading is one.
    public var failure: LoadFailure? {
        if case .failed(let failure) = self { return failure }
        return nil
    }
}
