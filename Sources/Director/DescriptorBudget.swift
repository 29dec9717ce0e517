#if canImport(Glibc)
import Glibc
#endif

/// How the director shares its descriptors (RLIMIT_NOFILE): a fixed reserve for what must never run short
/// (event loops, netlink, heartbeat sockets, logging, lvs.cf and overrides.json reads, `send_program` pipes), then
/// caps for the HTTP server and control socket, and what is left for health checks in flight. The caps add up to
/// the limit, so no client of the listeners can make a health check, a heartbeat or a netlink call fail for lack
/// of a descriptor.
public struct DescriptorBudget: Sendable, Hashable, CustomStringConvertible {
    /// The soft RLIMIT_NOFILE.
    public var limit: Int
    /// Kept free for everything but the listeners and the checks.
    public var reserve: Int
    /// Connections the status/metrics HTTP server keeps open at once.
    public var httpConnections: Int
    /// Connections the control socket keeps open at once.
    public var controlConnections: Int
    /// Health checks in flight at once (the engine's limit).
    public var healthChecks: Int

    /// The health engine's default when descriptors are plenty (see ``HealthCheckEngine``).
    public static let maximumHealthChecks = 2_048

    /// - Parameters:
    ///   - limit: the soft RLIMIT_NOFILE.
    ///   - eventLoopThreads: each holds an epoll, an eventfd and a timerfd.
    ///   - programThreads: each running `send_program` holds a pipe (two descriptors) for a moment.
    ///   - loadFeedbackServers: each load reading holds a socket.
    public init(limit: Int, eventLoopThreads: Int, programThreads: Int, loadFeedbackServers: Int) {
        self.limit = limit
        reserve = 64 + 3 * eventLoopThreads + 2 * programThreads + loadFeedbackServers
        let available = max(limit - reserve, 0)
        httpConnections = min(max(available / 8, 4), 256)
        controlConnections = min(max(available / 16, 4), 64)
        healthChecks = min(max(available - httpConnections - controlConnections, 16), Self.maximumHealthChecks)
    }

    /// The soft RLIMIT_NOFILE of this process.
    public static func currentLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1_024 }
        return Int(min(limit.rlim_cur, 1 << 20))  // RLIM_INFINITY is the largest value: capped too
    }

    public var description: String {
        "descriptors: limit \(limit), \(reserve) reserved, \(healthChecks) for health checks in flight, "
            + "\(httpConnections) for the status page and metrics, \(controlConnections) for the control socket"
    }
}
