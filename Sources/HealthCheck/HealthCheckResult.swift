/// The outcome of one check.
public enum HealthCheckResult: Hashable, Sendable {
    case passed
    case failed(HealthCheckFailure)
}
