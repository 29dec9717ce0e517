/// Counting of established connections in /proc/net/tcp and /proc/net/tcp6.
///
/// Each line after the header is `sl local_address rem_address st ...`, the local address `HEXADDR:HEXPORT` and the
/// state a hex number (01 = ESTABLISHED). The live figure counts a busy server's table every second, so the text
/// is scanned byte by byte, without a String per line or field (about 150 bytes a socket); only a counted connection
/// costs one, its addresses.
///
/// The kernel writes the table in chunks, and a socket that comes or goes between two of the reader's `read`s can make
/// it show a line twice: connections are counted once per pair of addresses, not once per line. (LiveServeTests once
/// saw 6 of 5 connections held open, on a test machine with thousands of sockets in its table.)
public enum TCPTable {
    static let established: UInt8 = 0x01

    /// Number of ESTABLISHED connections whose local port is in `ports`, from the text of /proc/net/tcp or tcp6.
    public static func countEstablished(_ text: String, localPorts ports: Set<UInt16>) throws(ProcParseError) -> Int {
        var text = text
        let counted = text.withUTF8 { bytes in
            Result { () throws(ProcParseError) in try countEstablished(bytes, localPorts: ports) }
        }
        return try counted.get()
    }

    static func countEstablished(_ bytes: UnsafeBufferPointer<UInt8>, localPorts ports: Set<UInt16>) throws(ProcParseError)
        -> Int
    {
        var connections = Set<String>()
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
            defer { start = end + 1 }
            // The first four fields' ranges; empty lines are skipped, as the table ends with a newline.
            var fields: [Range<Int>] = []
            fields.reserveCapacity(4)
            var i = start
            while i < end, fields.count < 4 {
                while i < end, bytes[i] == UInt8(ascii: " ") { i += 1 }
                let fieldStart = i
                while i < end, bytes[i] != UInt8(ascii: " ") { i += 1 }
                if i > fieldStart { fields.append(fieldStart..<i) }
            }
            if fields.isEmpty, end == start { continue }
            lineNumber += 1
            if lineNumber == 1, let first = fields.first, equals(bytes, first, "sl") { continue }
            guard fields.count >= 4 else {
                throw ProcParseError(file: "net/tcp", reason: "line \(lineNumber) has \(fields.count) fields")
            }
            let local = fields[1]
            guard let colon = local.last(where: { bytes[$0] == UInt8(ascii: ":") }),
                let port = hex(bytes, colon + 1..<local.upperBound, maximum: 0xFFFF),
                let state = hex(bytes, fields[3], maximum: 0xFF)
            else {
                let line = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
                throw ProcParseError(file: "net/tcp", reason: "line \(lineNumber): bad address or state '\(line)'")
            }
            if UInt8(state) == established, ports.contains(UInt16(port)) {
                connections.insert(
                    String(decoding: UnsafeBufferPointer(rebasing: bytes[local.lowerBound..<fields[2].upperBound]), as: UTF8.self))
            }
        }
        return connections.count
    }

    /// The hex number in `range`, or nil when empty, not hex or above `maximum`.
    static func hex(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, maximum: UInt32) -> UInt32? {
        guard !range.isEmpty else { return nil }
        var value: UInt32 = 0
        for index in range {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            default: return nil
            }
            value = value * 16 + digit
            if value > maximum { return nil }
        }
        return value
    }

    static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ word: StaticString) -> Bool {
        guard range.count == word.utf8CodeUnitCount else { return false }
        return zip(range, UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)).allSatisfy {
            bytes[$0] == $1
        }
    }
}
