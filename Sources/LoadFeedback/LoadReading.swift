import NIOCore

/// One attempt to learn a real server's load: a figure per CPU and the instant it was measured, or why there is none.
///
/// `at` is on the director's clock (``NIODeadline``): for an agent answer it is the receive time minus the sample's
/// age, so two fetches of the same agent sample carry (nearly) the same instant and ``LoadFeedbackState`` counts
/// the sample once.
public enum LoadReading: Sendable, Hashable {
    case load(perCPU: Double, at: NIODeadline)
    case failed(LoadFailure)

    /// Loads above this per CPU are treated as garbage, not as a very busy server.
    public static let maximumLoad: Double = 1000

    /// A reading of `value` measured at `at`, or ``LoadFailure/implausible(_:)`` if the value is NaN, infinite,
    /// negative or above ``maximumLoad``.
    public static func checked(perCPU value: Double, at: NIODeadline) -> LoadReading {
        guard value.isFinite, value >= 0, value <= maximumLoad else { return .failed(.implausible(value)) }
        return .load(perCPU: value, at: at)
    }

    /// The failure, if this reading is one.
    public var failure: LoadFailure? {
        if case .failed(let failure) = self { return failure }
        return nil
    }
}
