#if canImport(Glibc)
import Glibc
#endif

/// Number and time formatting without Foundation.
enum TextFormat {
    /// `value` with exactly `decimals` decimals ("0.420000").
    static func fixed(_ value: Double, decimals: Int) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            var args: [CVarArg] = [value]
            let n = withVaList(args) { vsnprintf(buffer.baseAddress, 64, "%.\(decimals)f", $0) }
            args.removeAll()
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress, count: Int(max(0, min(n, 63)))), as: UTF8.self)
        }
    }

    /// A figure for a table: integers plainly, byte counts in MiB, others with 3 decimals.
    static func figure(_ value: Double?, metric: Metric) -> String {
        guard let value else { return "-" }
        switch metric {
        case .memUsed, .memAvailable: return fixed(value / 1_048_576, decimals: 1) + " MiB"
        case .cpus, .tcpEstablished, .busyWorkers: return fixed(value, decimals: metric == .cpus ? 0 : 1)
        default: return fixed(value, decimals: 3)
        }
    }

    /// "2026-11-22 01:23:00 UTC".
    static func utc(_ seconds: Int) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            let n = strftime(buffer.baseAddress, 64, "%Y-%m-%d %H:%M:%S UTC", &parts)
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress, count: n), as: UTF8.self)
        }
    }
}
