import HealthCheck
import Heartbeat

/// One active `failover NAME { ... }` block (`service = fos`) as the daemon runs it: its VIP, the local check of its
/// service (send/expect or send_program on `port` of the VIP, every `timeout`), and its commands.
public struct FailoverPlan: Sendable, Hashable {
    public var name: String
    public var address: VirtualAddress
    /// The VIP and `port`: the service is checked where its clients reach it (the VIP is local on the active
    /// director).
    public var endpoint: HealthEndpoint
    public var check: HealthCheck
    /// `timeout`: the time a check may take, and the interval between checks (as Piranha's fos monitor).
    public var interval: Duration
    public var startCommand: String?
    public var stopCommand: String?

    public init(
        name: String, address: VirtualAddress, endpoint: HealthEndpoint, check: HealthCheck, interval: Duration,
        startCommand: String?, stopCommand: String?
    ) {
        self.name = name
        self.address = address
        self.endpoint = endpoint
        self.check = check
        self.interval = interval
        self.startCommand = startCommand
        self.stopCommand = stopCommand
    }

    public func command(_ command: FailoverServiceMachine<ContinuousClock.Instant>.Command) -> String? {
        command == .start ? startCommand : stopCommand
    }
}
