/// The cumulative CPU counters and the limits of what the live figure measures, read at one instant. Two readings
/// make a figure (``LiveWindow``).
public struct CPUReading: Sendable, Equatable {
    public enum Usage: Sendable, Equatable {
        /// CPU time used by the cgroup, microseconds.
        case cgroup(microseconds: UInt64)
        /// /proc/stat jiffies: busy (not idle or iowait) and all, summed over the CPUs.
        case host(busy: UInt64, total: UInt64)
    }

    /// CFS bandwidth counters of the cgroup whose quota binds.
    public struct Throttling: Sendable, Equatable {
        /// Which cgroup they are of (a window only subtracts counters of the same one).
        public var cgroup: String
        /// Enforcement periods in which the cgroup was runnable.
        public var periods: UInt64
        /// Periods in which it ran out of quota.
        public var throttledPeriods: UInt64
        /// Time its tasks were held back, microseconds.
        public var throttledMicroseconds: UInt64

        public init(cgroup: String, periods: UInt64, throttledPeriods: UInt64, throttledMicroseconds: UInt64) {
            self.cgroup = cgroup
            self.periods = periods
            self.throttledPeriods = throttledPeriods
            self.throttledMicroseconds = throttledMicroseconds
        }
    }

    public var usage: Usage
    /// CPUs online (the `cpuN` lines of /proc/stat).
    public var onlineCPUs: Int
    /// The smallest CPU quota of the cgroup and its ancestors, in CPUs; `nil` without one.
    public var quota: Double?
    /// CPUs the cgroup's cpuset allows; `nil` without a cpuset.
    public var cpuset: Int?
    /// Throttling of the cgroup whose quota is ``quota``; `nil` without a quota.
    public var throttling: Throttling?
    /// PSI cpu `some avg10` (percent) of the cgroup, or of the host where the cgroup has none; `nil` without PSI.
    public var pressure: Double?
    /// Established TCP connections to the service ports at this instant (``CPUReader/servicePorts``): the
    /// webserver's requests in flight, queued or being served; `nil` when not counted.
    public var inFlight: Int?

    public init(
        usage: Usage, onlineCPUs: Int, quota: Double? = nil, cpuset: Int? = nil, throttling: Throttling? = nil,
        pressure: Double? = nil, inFlight: Int? = nil
    ) {
        self.usage = usage
        self.onlineCPUs = onlineCPUs
        self.quota = quota
        self.cpuset = cpuset
        self.throttling = throttling
        self.pressure = pressure
        self.inFlight = inFlight
    }

    /// CPUs available: the smallest of the quota, the cpuset's CPU count and the online CPUs.
    public var capacity: Double {
        var capacity = Double(max(1, onlineCPUs))
        if let cpuset, cpuset > 0 { capacity = min(capacity, Double(cpuset)) }
        if let quota, quota > 0 { capacity = min(capacity, quota) }
        return capacity
    }
}
