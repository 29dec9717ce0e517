/// One real server to check: where, how, and with what timing.
public struct HealthTarget: Hashable, Sendable {
    public var endpoint: HealthEndpoint
    public var check: HealthCheck
    public var timing: HealthCheckTiming

    public init(endpoint: HealthEndpoint, check: HealthCheck, timing: HealthCheckTiming = .piranha) {
        self.endpoint = endpoint
        self.check = check
        self.timing = timing
    }
}
