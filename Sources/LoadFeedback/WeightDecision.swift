/// The weight to program for a real server and why; `changed` says whether it differs from the previous one.
public struct WeightDecision: Sendable, Hashable, CustomStringConvertible {
    public var weight: Int
    /// A sentence for logs and `status`, e.g. `weight 18: load 1.70/cpu vs 0.95 reference, base 32`.
    public var reason: String
    public var changed: Bool

    public init(weight: Int, reason: String, changed: Bool) {
        self.weight = weight
        self.reason = reason
        self.changed = changed
    }

    public var description: String { reason }
}
