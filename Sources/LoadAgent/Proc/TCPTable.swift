/// Counting of established connections in /proc/net/tcp and /proc/net/tcp6.
///
/// Each line after the header is `sl local_address rem_address st ...`, the local address `HEXADDR:HEXPORT` and the
/// state a hex number (01 = ESTABLISHED).
public enum TCPTable {
    static let established: UInt8 = 0x01

    /// Number of ESTABLISHED connections whose local port is in `ports`, from the text of /proc/net/tcp or tcp6.
    public static func countEstablished(_ text: String, localPorts ports: Set<UInt16>) throws(ProcParseError) -> Int {
        var count = 0
        for (index, line) in text.split(separator: "\n").enumerated() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if index == 0, fields.first == "sl" { continue }
            guard fields.count >= 4 else {
                throw ProcParseError(file: "net/tcp", reason: "line \(index + 1) has \(fields.count) fields")
            }
            guard let colon = fields[1].lastIndex(of: ":"),
                let port = UInt16(fields[1][fields[1].index(after: colon)...], radix: 16),
                let state = UInt8(fields[3], radix: 16)
            else {
                throw ProcParseError(file: "net/tcp", reason: "line \(index + 1): bad address or state '\(line)'")
            }
            if state == established, ports.contains(port) { count += 1 }
        }
        return count
    }
}
