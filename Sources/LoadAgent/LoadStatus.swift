import AgentWire

/// The current sample as served: who, how old, whether it is too old to weigh by, and the live figure beside it.
public struct LoadStatus: Sendable, Equatable {
    /// A sample older than this many seconds is stale: directors must not weigh by it (the contract's limit).
    public static let staleAfter = LoadDocument.staleAfterSeconds

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

    /// The body of `GET /load.json` (``LoadDocument``, the contract the director decodes). `load` and `metrics` are
    /// the cron job's last sample, `live` the figure over the last ~10 s (``LiveLoad``), `null` in the agent's first
    /// second or when its source cannot be read. The server answers from bytes rebuilt once a second
    /// (``LoadAnswers``): `age` and `live` are at most about 1 s old.
    public var document: LoadDocument {
        LoadDocument(
            server: server, time: Double(sample.time), age: Double(age), stale: stale, load: sample.load,
            metrics: LoadDocument.Metrics(
                load1: sample.load1, load5: sample.load5, load15: sample.load15, cpus: sample.cpus.map { Double($0) },
                cpuUtil: sample.cpuUtil, memUsed: sample.memUsed, memAvailable: sample.memAvailable,
                tcpEstablished: sample.tcpEstablished.map { Double($0) }, busyWorkers: sample.busyWorkers.map { Double($0) }),
            live: live?.wire)
    }

    /// ``document`` as the agent writes it.
    public var json: String { document.json }

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
