/// The current sample as served: who, how old, whether it is too old to weigh by, and the live figure beside it.
public struct LoadStatus: Sendable, Equatable {
    /// A sample older than this many seconds is stale: directors must not weigh by it.
    public static let staleAfter = 180

    public var server: String
    public var sample: LoadSample
    /// Seconds between the sample and now (never negative).
    public var age: Int
    public var stale: Bool { age > Self.staleAfter }
    /// The live figure over the last seconds (``LiveWindow``); `nil` when it cannot be computed yet.
    public var live: LiveLoad?

    public init(server: String, sample: LoadSample, now: Int, live: LiveLoad? = nil) {
        self.server = server
        self.sample = sample
        self.age = max(0, now - sample.time)
        self.live = live
    }

    /// The latest sample in `store`'s files (time: that of load.rrd), `nil` when nothing was sampled yet.
    public static func latestSample(in store: RRDStore) throws(AgentError) -> LoadSample? {
        guard let load = try store.lastUpdate(.load) else { return nil }
        var figures: [Metric: Double] = [:]
        for metric in Metric.allCases where metric != .load {
            // The load is what directors need: a damaged file of another metric only makes that figure unknown.
            if let last = try? store.lastUpdate(metric), last.time == load.time, let value = last.value {
                figures[metric] = value
            }
        }
        return LoadSample(time: load.time, figures: figures)
    }

    /// The body of `GET /load.json` (the schema the director's load-feedback client parses; keep it):
    /// `{"server":..,"time":..,"age":..,"stale":..,"load":..,"metrics":{"load1":..,"load5":..,"load15":..,
    /// "cpus":..,"cpu_util":..,"mem_used":..,"mem_available":..,"tcp_established":..,"busy_workers":..},
    /// "live":{"figure":..,"window":..,"source":..,"cgroup":..,"capacity":..,"usage":..,"throttled":..,
    /// "throttled_usec":..,"cpu_pressure":..,"in_flight":..}}`.
    ///
    /// `load` and `metrics` are the cron job's last sample (once a minute; `load` = 1-minute load average per CPU,
    /// what old directors weigh by). `live` is the figure over the last ~10 s (``LiveLoad``: share of this server's
    /// CPU capacity used plus a saturation term, the window in seconds, the source `cgroup` or `host`, the capacity
    /// in CPUs), `null` in the agent's first second or when its source cannot be read. The server answers from bytes
    /// rebuilt once a second (``LoadAnswers``): `age` and `live` are at most about 1 s old.
    public var json: String {
        func number(_ value: Double?, integer: Bool) -> String {
            guard let value, value.isFinite else { return "null" }
            return integer ? String(Int64(value.rounded())) : "\(value)"
        }
        let metrics = Metric.allCases.filter { $0 != .load }.map {
            "\"\($0.rawValue)\":\(number(sample[$0], integer: $0.isInteger))"
        }
        return "{\"server\":\(JSONText.string(server)),\"time\":\(sample.time),\"age\":\(age),\"stale\":\(stale),"
            + "\"load\":\(number(sample.load, integer: false)),\"metrics\":{\(metrics.joined(separator: ","))},"
            + "\"live\":\(live?.json ?? "null")}\n"
    }

    /// The body of `GET /load`: the load figure on one line (6 decimals at most).
    public var loadLine: String? {
        guard let load = sample.load else { return nil }
        return "\(TextFormat.fixed(load, decimals: 6))\n"
    }

    /// Why this status must not be weighed by, for a 503 answer; `nil` when it is fine.
    public var unusableReason: String? {
        if stale {
            return "stale: the last sample is \(age) s old (more than \(Self.staleAfter) s); "
                + "check that the h2e-agent cron job runs 'h2e-agent sample' every minute"
        }
        if sample.load == nil { return "the last sample has no load figure (unknown load average or CPU count)" }
        return nil
    }
}
