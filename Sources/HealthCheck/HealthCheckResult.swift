/// The outcome of one check.
public enum HealthCheckResult: Hashable, Sendable {
    case passed
    case failed(HealthCheckFailure)
    /// The check could not be made for a reason on this director (out of descriptors, buffers or memory): no
    /// verdict on the server, which keeps its state. Counted and logged (rate-limited) by the engine.
    case inconclusive(LocalCheckError)
}
