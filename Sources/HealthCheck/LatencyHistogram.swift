/// A log-linear histogram of durations at microsecond resolution (relative error below 1/32), for the lateness of
/// checks against their schedule. Constant memory, O(1) record.
public struct LatencyHistogram: Hashable, Sendable {
    private static let linear = 64  // values below 64 µs are kept exactly
    private static let subBuckets = 32

    private var buckets: [Int] = []
    /// Number of recorded values.
    public private(set) var count = 0
    /// Largest recorded value.
    public private(set) var maximum: Duration = .zero

    public init() {}

    /// Records `value`; negative values count as zero.
    public mutating func record(_ value: Duration) {
        let micros = max(0, Self.microseconds(value))
        let index = Self.bucket(micros)
        if index >= buckets.count { buckets.append(contentsOf: repeatElement(0, count: index + 1 - buckets.count)) }
        buckets[index] += 1
        count += 1
        if value > maximum { maximum = value }
    }

    /// The smallest bucket bound at or below which `fraction` (0...1) of the values lie; zero when empty.
    public func percentile(_ fraction: Double) -> Duration {
        guard count > 0 else { return .zero }
        let rank = max(1, Int((fraction * Double(count)).rounded(.up)))
        var seen = 0
        for (index, n) in buckets.enumerated() {
            seen += n
            if seen >= rank { return min(.microseconds(Self.upperBound(index)), maximum) }
        }
        return maximum
    }

    /// Adds every value of `other`.
    public mutating func merge(_ other: LatencyHistogram) {
        if other.buckets.count > buckets.count {
            buckets.append(contentsOf: repeatElement(0, count: other.buckets.count - buckets.count))
        }
        for (index, n) in other.buckets.enumerated() { buckets[index] += n }
        count += other.count
        maximum = max(maximum, other.maximum)
    }

    static func microseconds(_ value: Duration) -> Int64 {
        let (seconds, attoseconds) = value.components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    static func bucket(_ micros: Int64) -> Int {
        if micros < linear { return Int(micros) }
        let exponent = 63 - micros.leadingZeroBitCount  // >= 6
        let sub = Int((micros >> (exponent - 5)) & Int64(subBuckets - 1))
        return linear + (exponent - 6) * subBuckets + sub
    }

    static func upperBound(_ index: Int) -> Int64 {
        if index < linear { return Int64(index) }
        let exponent = (index - linear) / subBuckets + 6
        let sub = Int64((index - linear) % subBuckets)
        let step = Int64(1) << (exponent - 5)
        return (Int64(subBuckets) + sub) * step + step - 1
    }
}
