/// Counters of a health check engine, for metrics and benchmarks.
public struct HealthCheckStatistics: Hashable, Sendable {
    /// Checks started.
    public var started = 0
    /// Checks that passed.
    public var passed = 0
    /// Checks that failed (any reason, timeouts included).
    public var failed = 0
    /// Checks that failed by timing out.
    public var timedOut = 0
    /// Checks that could not be made because of this director (``LocalCheckError``): no verdict, not in `failed`.
    public var localErrors = 0
    /// Times the engine woke to start checks or collect results (with checks coalesced, far fewer than checks).
    public var wakeUps = 0
    /// Most checks that were in flight at once.
    public var peakInFlight = 0
    /// How late each check started against its deadline.
    public var lateness = LatencyHistogram()
    /// How long each check took, from its start to its result reaching the engine.
    public var durations = LatencyHistogram()

    public init() {}
}
