/// The body of h2e-agent's `GET /load.json`: the contract between the agent, which writes it (``json``), and the
/// director, which decodes it (`Decodable`, with FoundationEssentials' JSONDecoder in LoadFeedback).
///
/// ```json
/// {"server":"web1","time":1700000000,"age":12,"stale":false,"load":0.42,
///  "metrics":{"load1":1.68,"load5":1.2,"load15":1.1,"cpus":4,"cpu_util":0.4,"mem_used":1000000000,
///             "mem_available":3000000000,"tcp_established":120,"busy_workers":null},
///  "live":{"figure":0.61,"window":10,"source":"cgroup","cgroup":"/system.slice/apache2.service",
///          "capacity":0.5,"usage":0.3,"throttled":0.01,"throttled_usec":1200,"cpu_pressure":null,"in_flight":null}}
/// ```
///
/// `load` is the cron job's last sample (once a minute): the 1-minute load average divided by the CPU count, what
/// old directors weigh by. `live` (docs/weights.md) is the share of this server's capacity used over a short
/// window, computed when asked; a director weighs by it when it is there and not null. Readers ignore members they
/// do not know (a newer agent may add some); `metrics` is for display and may be absent.
public struct LoadDocument: Sendable, Hashable, Codable {
    /// A sample older than this is stale: the agent says so (``stale``, and 503 on `/load`) and directors do not
    /// weigh by it, whatever the flag says.
    public static let staleAfterSeconds = 180
    /// Largest body a director reads; a real one is under 1 KB.
    public static let maximumBytes = 64 * 1024

    /// The agent's server id (also its `X-SERVER` header).
    public var server: String
    /// Unix time of the sample, in seconds.
    public var time: Double
    /// Seconds since the sample was taken, as the agent saw it when answering.
    public var age: Double
    /// The agent's own verdict that its sample is too old to use (``staleAfterSeconds``).
    public var stale: Bool
    /// 1-minute load average per CPU; null when the agent could not compute it (unknown load average or CPU count).
    public var load: Double?
    public var metrics: Metrics?
    /// The live figure; nil from an old agent, or when the agent cannot compute it yet.
    public var live: Live?

    public init(
        server: String, time: Double, age: Double, stale: Bool, load: Double?, metrics: Metrics? = nil,
        live: Live? = nil
    ) {
        self.server = server
        self.time = time
        self.age = age
        self.stale = stale
        self.load = load
        self.metrics = metrics
        self.live = live
    }

    /// `live`: what share of this server's CPU capacity is used, over a stated window.
    public struct Live: Sendable, Hashable, Codable {
        /// Share of the capacity used over the window (1 = all of it) plus a saturation term in 0...1 (share of CFS
        /// periods throttled, else PSI cpu some avg10 / 100, else 0): 0...2, above 1 meaning demand beyond capacity.
        public var figure: Double
        /// Seconds the figure covers (shorter right after the agent starts; at least 1).
        public var window: Double
        /// `cgroup` or `host`.
        public var source: String?
        /// The cgroup measured; nil for the host.
        public var cgroup: String?
        /// CPUs available to the server (quota, cpuset or online CPUs, the smallest).
        public var capacity: Double?
        /// CPUs used on average over the window.
        public var usage: Double?
        /// Share of CFS periods throttled in the window; nil without a quota.
        public var throttled: Double?
        /// Time throttled in the window, microseconds; nil without a quota.
        public var throttledUsec: Double?
        /// PSI cpu some avg10, percent; nil without PSI.
        public var cpuPressure: Double?
        /// Requests in flight at the webserver: the mean over the window of its established connections to the
        /// agent's service ports; nil when not counted (an older agent, or a table it could not read).
        public var inFlight: Double?

        public init(
            figure: Double, window: Double, source: String?, cgroup: String?, capacity: Double?, usage: Double?,
            throttled: Double?, throttledUsec: Double?, cpuPressure: Double?, inFlight: Double? = nil
        ) {
            self.figure = figure
            self.window = window
            self.source = source
            self.cgroup = cgroup
            self.capacity = capacity
            self.usage = usage
            self.throttled = throttled
            self.throttledUsec = throttledUsec
            self.cpuPressure = cpuPressure
            self.inFlight = inFlight
        }

        enum CodingKeys: String, CodingKey {
            case figure, window, source, cgroup, capacity, usage, throttled
            case throttledUsec = "throttled_usec"
            case cpuPressure = "cpu_pressure"
            case inFlight = "in_flight"
        }
    }

    /// `metrics`: the cron job's last sample in full.
    public struct Metrics: Sendable, Hashable, Codable {
        public var load1: Double?
        public var load5: Double?
        public var load15: Double?
        public var cpus: Double?
        public var cpuUtil: Double?
        public var memUsed: Double?
        public var memAvailable: Double?
        public var tcpEstablished: Double?
        public var busyWorkers: Double?

        public init(
            load1: Double? = nil, load5: Double? = nil, load15: Double? = nil, cpus: Double? = nil,
            cpuUtil: Double? = nil, memUsed: Double? = nil, memAvailable: Double? = nil,
            tcpEstablished: Double? = nil, busyWorkers: Double? = nil
        ) {
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

        enum CodingKeys: String, CodingKey {
            case load1, load5, load15, cpus
            case cpuUtil = "cpu_util"
            case memUsed = "mem_used"
            case memAvailable = "mem_available"
            case tcpEstablished = "tcp_established"
            case busyWorkers = "busy_workers"
        }
    }
}

/// The body of the agent's 503 answer to `GET /load.json` before its first sample, and of its other JSON errors:
/// `{"server":"web1","error":"no sample yet","live":{...}}` (`live` may be null or absent).
public struct LoadErrorDocument: Sendable, Hashable, Codable {
    public var server: String?
    public var error: String
    public var live: LoadDocument.Live?

    public init(server: String?, error: String, live: LoadDocument.Live? = nil) {
        self.server = server
        self.error = error
        self.live = live
    }

    /// The agent's encoding.
    public var json: String {
        "{\"server\":\(JSONText.string(server)),\"error\":\(JSONText.string(error)),"
            + "\"live\":\(live?.json ?? "null")}\n"
    }
}

extension LoadDocument {
    /// The agent's encoding: members in the order of the example above, every member present (`null` when
    /// unknown), whole numbers without a fraction, live figures to 4 decimals; one line.
    public var json: String {
        "{\"server\":\(JSONText.string(server)),\"time\":\(JSONText.number(time)),\"age\":\(JSONText.number(age)),"
            + "\"stale\":\(stale),\"load\":\(JSONText.number(load)),\"metrics\":\(metrics?.json ?? "null"),"
            + "\"live\":\(live?.json ?? "null")}\n"
    }
}

extension LoadDocument.Metrics {
    public var json: String {
        let n = { (value: Double?) in JSONText.number(value) }
        return "{\"load1\":\(n(load1)),\"load5\":\(n(load5)),\"load15\":\(n(load15)),\"cpus\":\(n(cpus)),"
            + "\"cpu_util\":\(n(cpuUtil)),\"mem_used\":\(n(memUsed)),\"mem_available\":\(n(memAvailable)),"
            + "\"tcp_established\":\(n(tcpEstablished)),\"busy_workers\":\(n(busyWorkers))}"
    }
}

extension LoadDocument.Live {
    public var json: String {
        let n = { (value: Double?) in JSONText.number(value, decimals: 4) }
        return "{\"figure\":\(n(figure)),\"window\":\(n(window)),\"source\":\(JSONText.string(source)),"
            + "\"cgroup\":\(JSONText.string(cgroup)),\"capacity\":\(n(capacity)),\"usage\":\(n(usage)),"
            + "\"throttled\":\(n(throttled)),\"throttled_usec\":\(JSONText.number(throttledUsec)),"
            + "\"cpu_pressure\":\(n(cpuPressure)),\"in_flight\":\(JSONText.number(inFlight, decimals: 2))}"
    }
}
