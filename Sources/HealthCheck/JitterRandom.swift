/// A small, fast generator for spreading check intervals (SplitMix64): not cryptographic, seeded once from the
/// system generator by default, so jitter costs no system call per check.
public struct JitterRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Seeds from the system generator.
    public init() {
        var system = SystemRandomNumberGenerator()
        self.init(seed: system.next())
    }

    /// A reproducible sequence, for tests and benchmarks.
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
