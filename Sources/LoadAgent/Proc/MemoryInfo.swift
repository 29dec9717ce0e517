/// Memory figures from /proc/meminfo, in bytes.
public struct MemoryInfo: Sendable, Equatable {
    public var total: UInt64
    /// MemAvailable; on kernels without it (before 3.14), MemFree + Buffers + Cached.
    public var available: UInt64

    /// total - available.
    public var used: UInt64 { total >= available ? total - available : 0 }

    public init(total: UInt64, available: UInt64) {
        self.total = total
        self.available = available
    }

    /// Parses the text of /proc/meminfo ("MemTotal:        8021268 kB").
    public static func parse(_ text: String) throws(ProcParseError) -> MemoryInfo {
        var fields: [Substring: UInt64] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let parts = line[line.index(after: colon)...].split(separator: " ")
            guard let number = parts.first.flatMap({ UInt64($0) }) else { continue }
            let multiplier: UInt64 = parts.count > 1 && parts[1] == "kB" ? 1024 : 1
            fields[line[..<colon]] = number * multiplier
        }
        guard let total = fields["MemTotal"] else { throw ProcParseError(file: "meminfo", reason: "no MemTotal") }
        if let available = fields["MemAvailable"] { return MemoryInfo(total: total, available: available) }
        guard let free = fields["MemFree"] else {
            throw ProcParseError(file: "meminfo", reason: "neither MemAvailable nor MemFree")
        }
        return MemoryInfo(total: total, available: free + (fields["Buffers"] ?? 0) + (fields["Cached"] ?? 0))
    }
}
