extension IPAddress {
    /// 4 bytes for IPv4, 16 for IPv6, network byte order (what netlink and sockets carry).
    public var bytes: [UInt8] {
        switch self {
        case .v4(let a): a.bytes
        case .v6(let a): a.bytes
        }
    }

    /// The address in 4 or 16 network-order bytes; nil for any other length.
    public init?(bytes: [UInt8]) {
        switch bytes.count {
        case 4:
            self = .v4(IPv4Address(bytes[0], bytes[1], bytes[2], bytes[3]))
        case 16:
            let half = { (range: Range<Int>) in range.reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[$1]) } }
            self = .v6(IPv6Address(high: half(0..<8), low: half(8..<16)))
        default:
            return nil
        }
    }

    /// An IPv4 address from its host-order value (`0x0A00_0001` is 10.0.0.1).
    public init(ipv4 value: UInt32) {
        self = .v4(IPv4Address(rawValue: value))
    }

    /// The IPv4 address as a host-order integer (IPv6: nil).
    public var ipv4Value: UInt32? {
        if case .v4(let a) = self { return a.rawValue }
        return nil
    }

    /// `address:port`, with brackets around IPv6 addresses (`[2001:db8::1]:80`), as ipvsadm prints it.
    public func withPort(_ port: UInt16) -> String {
        HostPort(host: description, port: Int(port)).description
    }
}

extension IPAddress: Comparable {
    /// IPv4 before IPv6, then by bytes.
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        let (l, r) = (lhs.bytes, rhs.bytes)
        if l.count != r.count { return l.count < r.count }
        return l.lexicographicallyPrecedes(r)
    }
}

extension IPAddress: Codable {
    /// As its text (`"10.0.0.2"`, `"2001:db8::1"`).
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = IPAddress(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not an IP address: \(text)"))
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
