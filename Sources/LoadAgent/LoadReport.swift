/// Current, average and maximum of every metric over a period: `h2e-agent report` and `GET /report`.
public struct LoadReport: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var metric: Metric
        public var current: Double?
        public var average: Double?
        public var maximum: Double?
    }

    public var server: String
    public var period: Period
    public var now: Int
    /// The latest sample, `nil` if none yet.
    public var status: LoadStatus?
    /// Seconds per point of the archive the averages came from.
    public var resolution: Int?
    public var rows: [Row]

    /// Summarises `store` over `period` ending at `now`.
    public static func make(store: RRDStore, server: String, period: Period, now: Int) throws(AgentError) -> LoadReport {
        let sample = try LoadStatus.latestSample(in: store)
        var rows: [Row] = []
        var resolution: Int?
        for metric in Metric.allCases {
            guard FileIO.exists(store.path(metric)) else {
                rows.append(Row(metric: metric))
                continue
            }
            let averages = try store.fetch(metric, cf: "AVERAGE", start: now - period.seconds, end: now)
            let maxima = try store.fetch(metric, cf: "MAX", start: now - period.seconds, end: now)
            resolution = resolution ?? averages.step
            rows.append(
                Row(
                    metric: metric, current: sample?[metric], average: mean(averages.values.compactMap { $0 }),
                    maximum: maxima.values.compactMap { $0 }.max()))
        }
        return LoadReport(
            server: server, period: period, now: now, status: sample.map { LoadStatus(server: server, sample: $0, now: now) },
            resolution: resolution, rows: rows)
    }

    static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// The text table.
    public var text: String {
        var out = "h2e-agent report for \(server): last \(period.rawValue), "
            + "\(TextFormat.utc(now - period.seconds)) .. \(TextFormat.utc(now))"
        if let resolution { out += ", \(resolution) s resolution" }
        out += "\n"
        if let status {
            out += "latest sample: \(TextFormat.utc(status.sample.time)) (\(status.age) s ago)"
            out += status.stale ? " STALE: is the h2e-agent cron job running?\n" : "\n"
        } else {
            out += "no sample yet: run 'h2e-agent sample' (the cron job does it every minute)\n"
        }
        let header = ["metric", "current", "average", "maximum"]
        let lines = rows.map { row in
            [row.metric.rawValue, TextFormat.figure(row.current, metric: row.metric),
             TextFormat.figure(row.average, metric: row.metric), TextFormat.figure(row.maximum, metric: row.metric)]
        }
        let widths = (0..<4).map { col in ([header] + lines).map { $0[col].count }.max() ?? 0 }
        for line in [header] + lines {
            out += line.enumerated().map { col, cell in
                col == 0 ? cell.padding(widths[col]) : cell.leftPadding(widths[col])
            }.joined(separator: "  ") + "\n"
        }
        out += "load = 1-minute load average / CPUs\n"
        return out
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    func leftPadding(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
