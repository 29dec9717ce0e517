/// One minute's sample of the machine, as `h2e-agent sample` records it and `serve` hands it out.
///
/// A `nil` figure is unknown (not measured, or not configured: ``busyWorkers`` without a status URL).
public struct LoadSample: Sendable, Equatable {
    /// Unix seconds, aligned to the RRD step: the end of the minute the sample stands for.
    public var time: Int
    public var load1: Double?
    public var load5: Double?
    public var load15: Double?
    public var cpus: Int?
    /// Fraction of CPU time not idle (idle and iowait count as idle) since the previous sample, 0...1.
    public var cpuUtil: Double?
    /// MemTotal - MemAvailable, bytes.
    public var memUsed: Double?
    /// MemAvailable, bytes.
    public var memAvailable: Double?
    /// Established TCP connections (IPv4 and IPv6) whose local port is a service port.
    public var tcpEstablished: Int?
    /// Busy workers reported by the local Apache mod_status or nginx stub_status page.
    public var busyWorkers: Int?

    public init(
        time: Int, load1: Double? = nil, load5: Double? = nil, load15: Double? = nil, cpus: Int? = nil,
        cpuUtil: Double? = nil, memUsed: Double? = nil, memAvailable: Double? = nil, tcpEstablished: Int? = nil,
        busyWorkers: Int? = nil
    ) {
        self.time = time
        self.load1 = load1
        self.load5 = load5
        self.load15 = load15
        self.cpus = cpus
        self.cpuUtil = cpuUtil
        self.memUsed = memUsed
        self.memAvailable = memAvailable
        self.tcpEstablished = tcpEstablished
        self.busyWorkers = busyWorkers
    }

    /// The load directors weigh by: 1-minute load average / CPU count. Unknown when either is unknown or cpus is 0.
    public var load: Double? {
        guard let load1, let cpus, cpus > 0 else { return nil }
        return load1 / Double(cpus)
    }

    /// The figure of one metric.
    public subscript(metric: Metric) -> Double? {
        switch metric {
        case .load: return load
        case .load1: return load1
        case .load5: return load5
        case .load15: return load15
        case .cpus: return cpus.map(Double.init)
        case .cpuUtil: return cpuUtil
        case .memUsed: return memUsed
        case .memAvailable: return memAvailable
        case .tcpEstablished: return tcpEstablished.map(Double.init)
        case .busyWorkers: return busyWorkers.map(Double.init)
        }
    }

    /// Builds a sample from stored figures (the RRD files' last values); `load` is derived, not read.
    public init(time: Int, figures: [Metric: Double]) {
        func int(_ m: Metric) -> Int? { figures[m].flatMap { $0.isFinite ? Int($0.rounded()) : nil } }
        self.init(
            time: time, load1: figures[.load1], load5: figures[.load5], load15: figures[.load15], cpus: int(.cpus),
            cpuUtil: figures[.cpuUtil], memUsed: figures[.memUsed], memAvailable: figures[.memAvailable],
            tcpEstablished: int(.tcpEstablished), busyWorkers: int(.busyWorkers))
    }
}
