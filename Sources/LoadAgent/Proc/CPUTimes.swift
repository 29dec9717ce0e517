/// Aggregate CPU time counters from the `cpu` line of /proc/stat, and the CPU count from its `cpuN` lines.
public struct CPUTimes: Sendable, Equatable {
    /// All jiffies: user + nice + system + idle + iowait + irq + softirq + steal (guest time is already in user).
    public var total: UInt64
    /// Idle jiffies: idle + iowait.
    public var idle: UInt64
    /// Number of `cpuN` lines: the CPUs online.
    public var cpuCount: Int

    public init(total: UInt64, idle: UInt64, cpuCount: Int) {
        self.total = total
        self.idle = idle
        self.cpuCount = cpuCount
    }

    /// Parses the text of /proc/stat.
    public static func parse(_ text: String) throws(ProcParseError) -> CPUTimes {
        var aggregate: (total: UInt64, idle: UInt64)?
        var cpus = 0
        for line in text.split(separator: "\n") {
            guard line.hasPrefix("cpu") else { continue }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let name = fields.first else { continue }
            if name == "cpu" {
                let counters = fields.dropFirst().prefix(8).compactMap { UInt64($0) }
                guard counters.count >= 4, counters.count == min(8, fields.count - 1) else {
                    throw ProcParseError(file: "stat", reason: "the 'cpu' line has no counters: '\(line)'")
                }
                let idle = counters[3] + (counters.count > 4 ? counters[4] : 0)
                aggregate = (counters.reduce(0, +), idle)
            } else if name.dropFirst(3).allSatisfy(\.isNumber) {
                cpus += 1
            }
        }
        guard let aggregate else { throw ProcParseError(file: "stat", reason: "no 'cpu' line") }
        guard cpus > 0 else { throw ProcParseError(file: "stat", reason: "no 'cpuN' lines") }
        return CPUTimes(total: aggregate.total, idle: aggregate.idle, cpuCount: cpus)
    }

    /// Fraction of time busy between `earlier` and `self`, 0...1; `nil` when the counters did not advance or went
    /// backwards (a reboot since `earlier`).
    public func utilisation(since earlier: CPUTimes) -> Double? {
        guard total > earlier.total, idle >= earlier.idle else { return nil }
        let dTotal = Double(total - earlier.total)
        let dIdle = Double(idle - earlier.idle)
        guard dIdle <= dTotal else { return nil }
        return (dTotal - dIdle) / dTotal
    }

    /// The state kept between samples in the state directory: "total idle cpus".
    public var stateLine: String { "\(total) \(idle) \(cpuCount)\n" }

    /// Reads ``stateLine``; `nil` when it is not one.
    public init?(stateLine: String) {
        let f = stateLine.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard f.count == 3, let t = UInt64(f[0]), let i = UInt64(f[1]), let c = Int(f[2]) else { return nil }
        self.init(total: t, idle: i, cpuCount: c)
    }
}
