/// When checks run and how their results turn into up/down decisions.
///
/// Piranha's semantics by default: one failed check takes a server out (`fall` 1); it comes back after `reentry`
/// seconds of consecutive successes. nanny counted reentry/timeout consecutive successes (18 with the defaults);
/// h2e measures the streak in time instead, which does not depend on the check interval: the server returns at the
/// first success at least `reentry` after the first success of an unbroken run of successes.
public struct HealthCheckTiming: Hashable, Sendable {
    /// Longest a single check may take (connect, send and answer together). lvs.cf `timeout`, default 10 s.
    public var timeout: Duration
    /// Time between the starts of two checks of one server. Default 2 s.
    public var interval: Duration
    /// Consecutive failed checks that take an up server out. Default 1 (Piranha).
    public var fall: Int
    /// How long checks must keep succeeding before a down server comes back. lvs.cf `reentry`, default 180 s.
    public var reentry: Duration
    /// Random spread of each interval, as a fraction of it (0.1: each interval is 90%...110% of `interval`), so
    /// checks started together drift apart. Default 0.1.
    public var jitter: Double

    /// Piranha's defaults: timeout 10 s, reentry 180 s, one failure is down; checks every 2 s with 10% jitter.
    public static let piranha = HealthCheckTiming(
        uncheckedTimeout: .seconds(10), interval: .seconds(2), fall: 1, reentry: .seconds(180), jitter: 0.1)

    /// - Throws: `HealthCheckConfigurationError.invalidTiming` when timeout or interval is not positive, fall is
    ///   below 1, reentry is negative or jitter is outside 0...0.5.
    public init(
        timeout: Duration = .seconds(10),
        interval: Duration = .seconds(2),
        fall: Int = 1,
        reentry: Duration = .seconds(180),
        jitter: Double = 0.1
    ) throws(HealthCheckConfigurationError) {
        guard timeout > .zero else { throw .invalidTiming("timeout must be positive, got \(timeout)") }
        guard interval > .zero else { throw .invalidTiming("interval must be positive, got \(interval)") }
        guard fall >= 1 else { throw .invalidTiming("fall must be at least 1, got \(fall)") }
        guard reentry >= .zero else { throw .invalidTiming("reentry must not be negative, got \(reentry)") }
        guard (0...0.5).contains(jitter) else { throw .invalidTiming("jitter must be within 0...0.5, got \(jitter)") }
        self.init(uncheckedTimeout: timeout, interval: interval, fall: fall, reentry: reentry, jitter: jitter)
    }

    private init(uncheckedTimeout timeout: Duration, interval: Duration, fall: Int, reentry: Duration, jitter: Double) {
        self.timeout = timeout
        self.interval = interval
        self.fall = fall
        self.reentry = reentry
        self.jitter = jitter
    }
}
