/// Parsers of the cgroup interface files the live figure reads (pure; v1 and v2 layouts).
public enum CgroupText {
    /// A flat keyed file, one `key value` per line: v2 and v1 `cpu.stat`.
    public static func keyed(_ text: String, file: String) throws(ProcParseError) -> [String: UInt64] {
        var values: [String: UInt64] = [:]
        for line in text.split(separator: "\n") where !line.isEmpty {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let value = UInt64(fields[1]) else {
                throw ProcParseError(file: file, reason: "expected 'key value', found '\(line)'")
            }
            values[String(fields[0])] = value
        }
        return values
    }

    /// v2 `cpu.max` ("max 100000" or "6000 100000"): the quota in CPUs, `nil` without one.
    public static func quota(cpuMax text: String) throws(ProcParseError) -> Double? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count == 2, let period = UInt64(fields[1]), period > 0 else {
            throw ProcParseError(file: "cpu.max", reason: "expected 'QUOTA PERIOD', found '\(text.trimmedLine)'")
        }
        if fields[0] == "max" { return nil }
        guard let quota = UInt64(fields[0]) else {
            throw ProcParseError(file: "cpu.max", reason: "the quota '\(fields[0])' is neither 'max' nor microseconds")
        }
        return Double(quota) / Double(period)
    }

    /// v1 `cpu.cfs_quota_us` (-1: none) over `cpu.cfs_period_us`: the quota in CPUs, `nil` without one.
    public static func quota(cfsQuota: String, cfsPeriod: String) throws(ProcParseError) -> Double? {
        guard let quota = Int64(cfsQuota.trimmedLine) else {
            throw ProcParseError(file: "cpu.cfs_quota_us", reason: "'\(cfsQuota.trimmedLine)' is not a number")
        }
        guard quota >= 0 else { return nil }
        guard let period = UInt64(cfsPeriod.trimmedLine), period > 0 else {
            throw ProcParseError(file: "cpu.cfs_period_us", reason: "'\(cfsPeriod.trimmedLine)' is not a period")
        }
        return Double(quota) / Double(period)
    }

    /// The number of CPUs in a CPU list ("0-3,6" is 5): `cpuset.cpus.effective`, v1 `cpuset.cpus`,
    /// /sys/devices/system/cpu/online. An empty list (a cpuset not configured) is `nil`.
    public static func cpuCount(list text: String, file: String) throws(ProcParseError) -> Int? {
        let list = text.trimmedLine
        guard !list.isEmpty else { return nil }
        var count = 0
        for item in list.split(separator: ",") {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2, let low = Int(bounds[0]), let high = Int(bounds.last!), low <= high else {
                throw ProcParseError(file: file, reason: "'\(item)' is not a CPU or a range of CPUs")
            }
            count += high - low + 1
        }
        return count
    }

    /// PSI (`cpu.pressure`, /proc/pressure/cpu): `avg10` of the `some` line, a percentage.
    public static func pressureSomeAvg10(_ text: String, file: String) throws(ProcParseError) -> Double {
        for line in text.split(separator: "\n") where line.hasPrefix("some ") {
            for field in line.split(separator: " ") where field.hasPrefix("avg10=") {
                if let value = Double(field.dropFirst(6)), value.isFinite, value >= 0 { return value }
            }
        }
        throw ProcParseError(file: file, reason: "no 'some avg10=' figure")
    }
}

extension String {
    /// The first line without surrounding spaces: one-value files and messages.
    var trimmedLine: String {
        String(split(separator: "\n").first.map { $0.trimmingSpaces } ?? "")
    }
}
