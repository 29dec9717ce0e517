import Addressing

#if canImport(Glibc)
import Glibc
#endif

/// A virtual address a director takes over: lvs.cf `address = IP dev[:alias]` with `vip_nmask`.
public struct VirtualAddress: Sendable, Hashable, CustomStringConvertible {
    public let ip: IPAddress
    public let prefixLength: Int
    /// The interface, e.g. `eth0`.
    public let device: String
    /// The IPv4 address label, e.g. `eth0:1` (nil without an alias; IPv6 has no labels).
    public let label: String?

    public var isIPv6: Bool { ip.family == .ipv6 }
    /// 4 bytes (IPv4) or 16 (IPv6), network order.
    public var bytes: [UInt8] { ip.bytes }

    /// The address in text form, without prefix.
    public var address: String { ip.description }

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
        guard let parsed = IPAddress(ip) else { throw .badAddress(ip) }
        let bytes = parsed.bytes
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
            guard bytes.count == 4, let value = IPAddress(mask)?.ipv4Value else { throw .badNetmask(mask) }
            let ones = value.nonzeroBitCount
            guard value == (ones == 0 ? 0 : UInt32.max << (32 - ones)) else { throw .badNetmask(mask) }
            prefix = ones
        case let mask?:
            guard let p = Int(mask), (0...maximum).contains(p) else { throw .badNetmask(mask) }
            prefix = p
        }
        self.ip = parsed
        self.prefixLength = prefix
        self.device = String(parts[0])
        self.label = parts.count == 2 ? interface : nil
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
