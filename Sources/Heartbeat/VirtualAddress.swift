#if canImport(Glibc)
import Glibc
#endif

/// A virtual address a director takes over: lvs.cf `address = IP dev[:alias]` with `vip_nmask`.
public struct VirtualAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 (IPv6), network order.
    public let bytes: [UInt8]
    public let prefixLength: Int
    /// The interface, e.g. `eth0`.
    public let device: String
    /// The IPv4 address label, e.g. `eth0:1` (nil without an alias; IPv6 has no labels).
    public let label: String?

    public var isIPv6: Bool { bytes.count == 16 }

    /// The address in text form, without prefix.
    public var address: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        bytes.withUnsafeBytes { _ = inet_ntop(isIPv6 ? AF_INET6 : AF_INET, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String { "\(address)/\(prefixLength) dev \(label ?? device)" }

    /// Parses lvs.cf's `address` value (`IP dev[:alias]`) and optional `vip_nmask` (dotted IPv4 netmask or a prefix
    /// length); without a netmask the prefix is /32 or /128.
    public init(address: String, netmask: String? = nil) throws(VirtualAddressError) {
        let fields = address.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 2 else { throw .syntax(address) }
        var ip = fields[0]
        var inlinePrefix: String?
        if let slash = ip.firstIndex(of: "/") {
            inlinePrefix = String(ip[ip.index(after: slash)...])
            ip = String(ip[..<slash])
        }
        guard let bytes = Self.parseIP(ip) else { throw .badAddress(ip) }
        let interface = fields[1]
        let parts = interface.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, interface.utf8.count < Int(IFNAMSIZ),
            parts.count == 1 || !parts[1].isEmpty
        else { throw .badInterface(interface) }
        if parts.count == 2 && bytes.count == 16 { throw .aliasOnIPv6(interface) }
        let maximum = bytes.count * 8
        let prefix: Int
        switch netmask ?? inlinePrefix {
        case nil:
            prefix = maximum
        case let mask? where mask.contains("."):
            guard bytes.count == 4, let m = Self.parseIP(mask) else { throw .badNetmask(mask) }
            let value = m.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let ones = value.nonzeroBitCount
            guard value == (ones == 0 ? 0 : UInt32.max << (32 - ones)) else { throw .badNetmask(mask) }
            prefix = ones
        case let mask?:
            guard let p = Int(mask), (0...maximum).contains(p) else { throw .badNetmask(mask) }
            prefix = p
        }
        self.bytes = bytes
        self.prefixLength = prefix
        self.device = String(parts[0])
        self.label = parts.count == 2 ? interface : nil
    }

    static func parseIP(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

/// Why an lvs.cf virtual address could not be used.
public enum VirtualAddressError: Error, Sendable, Hashable, CustomStringConvertible {
    case syntax(String)
    case badAddress(String)
    case badInterface(String)
    case aliasOnIPv6(String)
    case badNetmask(String)

    public var description: String {
        switch self {
        case .syntax(let text): "address = \(text): expected 'IP DEVICE' or 'IP DEVICE:ALIAS', e.g. 192.168.1.10 eth0:1"
        case .badAddress(let text): "\(text) is not an IPv4 or IPv6 address"
        case .badInterface(let text): "\(text) is not an interface name (DEVICE or DEVICE:ALIAS, under 16 characters)"
        case .aliasOnIPv6(let text): "\(text): IPv6 addresses have no aliases: name the device only"
        case .badNetmask(let text): "vip_nmask = \(text): expected a contiguous netmask such as 255.255.255.0 or a prefix length"
        }
    }
}
