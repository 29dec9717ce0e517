/// The checks in flight of one engine, confined to the engine's event loop: started one at a time, their results
/// collected by `poll`.
///
/// The engine polls instead of being called back so that it can wake once for many checks: a check's I/O, its
/// timeout and the start of the next due checks are all handled in the same wake-up. ``SocketProbes`` runs the checks
/// against real servers; tests script their own.
public protocol HealthProbes: AnyObject {
    /// Starts `check` against `endpoint`. Its result comes out of a later ``poll(now:into:)``: the first poll at or
    /// after `deadline` at the latest, then as a timeout. `token` is the caller's, returned with the result.
    func start(_ check: HealthCheck, against endpoint: HealthEndpoint, deadline: LoopInstant, token: UInt64)

    /// Appends the results of the checks that finished since the last poll, and of those past their deadline; never
    /// blocks.
    func poll(now: LoopInstant, into results: inout [ProbeResult])

    /// When the engine must poll next while checks are in flight: `nil` when an answer may come at any moment (the
    /// engine polls at its coalescing interval), else the instant at which the next result is known to be ready.
    func nextResult(now: LoopInstant) -> LoopInstant?

    /// Abandons every check in flight (their results are never reported) and releases what they hold.
    func cancelAll()
}

/// One finished check, with the token its start was given.
public struct ProbeResult: Sendable {
    public var token: UInt64
    public var result: HealthCheckResult

    public init(token: UInt64, result: HealthCheckResult) {
        self.token = token
        self.result = result
    }
}
