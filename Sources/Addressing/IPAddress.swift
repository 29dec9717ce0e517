/// An IPv4 or IPv6 address, parsed from and formatted to its canonical text form without any system call.
///
/// IPv4 is strict dotted decimal (`10.0.0.1`: four parts, 0-255, no leading zeros, since `inet_aton` would read
/// `010` as octal). IPv6 follows RFC 4291 text forms (`::`, an embedded dotted IPv4 tail) and is formatted as RFC 5952
/// says: lower case, the longest run of two or more zero groups compressed, `::ffff:a.b.c.d` for mapped IPv4.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Parses either family; nil when `text` is neither.
    public init?(_ text: some StringProtocol) {
        if let v4 = IPv4Address(text) {
            self = .v4(v4)
        } else if let v6 = IPv6Address(text) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    public var family: Family {
        switch self {
        case .v4: .ipv4
        case .v6: .ipv6
        }
    }

    /// True for 0.0.0.0 and ::, which can never name a server.
    public var isUnspecified: Bool {
        switch self {
        case .v4(let a): a.rawValue == 0
        case .v6(let a): a.high == 0 && a.low == 0
        }
    }

    public var description: String {
        switch self {
        case .v4(let a): a.description
        case .v6(let a): a.description
        }
    }

    /// Address family, as IPVS and netlink distinguish them.
    public enum Family: String, Hashable, Sendable, CustomStringConvertible {
        case ipv4 = "IPv4"
        case ipv6 = "IPv6"

        /// Bits in an address of this family (the largest prefix length).
        public var bitCount: Int { self == .ipv4 ? 32 : 128 }
        public var description: String { rawValue }
    }
}

/// An IPv4 address; `rawValue` holds it in host order (`10.0.0.1` is `0x0A00_0001`).
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Strict dotted decimal; nil otherwise.
    public init?(_ text: some StringProtocol) {
        guard let value = Self.parse(Array(text.utf8)[...]) else { return nil }  // small: one allocation
        rawValue = value
    }

    /// The four bytes in network order.
    public var bytes: [UInt8] {
        [UInt8(rawValue >> 24), UInt8(rawValue >> 16 & 0xFF), UInt8(rawValue >> 8 & 0xFF), UInt8(rawValue & 0xFF)]
    }

    public var description: String { bytes.map { String($0) }.joined(separator: ".") }

    static func parse(_ utf8: ArraySlice<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        var parts = 0
        var digits = 0
        var part: UInt32 = 0
        var leadingZero = false
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if digits == 1 && leadingZero { return nil }
                if digits == 0 { leadingZero = byte == UInt8(ascii: "0") }
                part = part * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                if digits > 3 || part > 255 { return nil }
            case UInt8(ascii: "."):
                guard digits > 0, parts < 3 else { return nil }
                value = value << 8 | part
                parts += 1
                digits = 0
                part = 0
            default:
                return nil
            }
        }
        guard digits > 0, parts == 3 else { return nil }
        return value << 8 | part
    }
}

/// An IPv6 address as two 64-bit halves in host order (`high` holds the first eight bytes).
public struct IPv6Address: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// From eight 16-bit groups, first group first.
    public init(groups: [UInt16]) {
        precondition(groups.count == 8, "an IPv6 address has eight groups")
        high = groups[0..<4].reduce(0) { $0 << 16 | UInt64($1) }
        low = groups[4..<8].reduce(0) { $0 << 16 | UInt64($1) }
    }

    /// RFC 4291 text form; nil otherwise. Zone identifiers (`%eth0`) are not addresses and are rejected.
    public init?(_ text: some StringProtocol) {
        guard let groups = Self.parse(Array(text.utf8)) else { return nil }
        self.init(groups: groups)
    }

    /// The eight 16-bit groups, first group first.
    public var groups: [UInt16] {
        (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * UInt64($0))) }
            + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * UInt64($0))) }
    }

    /// The sixteen bytes in network order.
    public var bytes: [UInt8] { groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } }

    public var description: String {
        let g = groups
        // IPv4-mapped (::ffff:0:0/96): RFC 5952 section 5 recommends the dotted tail.
        if high == 0 && low >> 32 == 0xFFFF {
            return "::ffff:" + IPv4Address(rawValue: UInt32(truncatingIfNeeded: low)).description
        }
        // The longest run of at least two zero groups, the first one on a tie.
        var bestStart = -1
        var bestLength = 1
        var index = 0
        while index < 8 {
            guard g[index] == 0 else {
                index += 1
                continue
            }
            var end = index
            while end < 8 && g[end] == 0 { end += 1 }
            if end - index > bestLength {
                bestStart = index
                bestLength = end - index
            }
            index = end
        }
        func hex(_ range: Range<Int>) -> String { g[range].map { String($0, radix: 16) }.joined(separator: ":") }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    static func parse(_ utf8: [UInt8]) -> [UInt16]? {
        guard utf8.count >= 2, utf8.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawDoubleColon = false
        var index = 0
        if utf8.starts(with: [UInt8(ascii: ":"), UInt8(ascii: ":")]) {
            sawDoubleColon = true
            index = 2
            if index == utf8.count { return [UInt16](repeating: 0, count: 8) }
        } else if utf8[0] == UInt8(ascii: ":") {
            return nil
        }
        while index < utf8.count {
            // One group, or a dotted IPv4 tail.
            var end = index
            while end < utf8.count && utf8[end] != UInt8(ascii: ":") { end += 1 }
            let field = utf8[index..<end]
            if field.contains(UInt8(ascii: ".")) {
                // The IPv4 tail must be the last field.
                guard end == utf8.count, let v4 = IPv4Address.parse(field) else { return nil }
                let pair = [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
                if sawDoubleColon { tail += pair } else { head += pair }
                index = end
                break
            }
            guard (1...4).contains(field.count) else { return nil }
            var group: UInt16 = 0
            for byte in field {
                guard let digit = hexDigit(byte) else { return nil }
                group = group << 4 | UInt16(digit)
            }
            if sawDoubleColon { tail.append(group) } else { head.append(group) }
            index = end
            guard index < utf8.count else { break }
            // At a colon: "::" once, else a single colon followed by another field.
            index += 1
            if index < utf8.count && utf8[index] == UInt8(ascii: ":") {
                guard !sawDoubleColon else { return nil }
                sawDoubleColon = true
                index += 1
            } else if index == utf8.count {
                return nil  // a trailing single colon
            }
        }
        if sawDoubleColon {
            guard head.count + tail.count <= 7 else { return nil }
            return head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        return head.count == 8 ? head : nil
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
