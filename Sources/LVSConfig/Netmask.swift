import Addressing

/// A contiguous netmask, kept as its prefix length.
///
/// lvs.cf writes IPv4 masks dotted (`255.255.255.0`); h2e also reads a bare prefix length (`24`, `64`), the only
/// form that suits IPv6. The writer uses the dotted form for IPv4 and the prefix length for IPv6.
public struct Netmask: Hashable, Sendable, CustomStringConvertible {
    /// Leading one bits: 0...32 for IPv4, 0...128 for IPv6.
    public var prefixLength: Int

    public init(prefixLength: Int) { self.prefixLength = prefixLength }

    /// The IPv4 mask as a host-order integer (`/24` is `0xFFFF_FF00`).
    public var ipv4Mask: UInt32 { prefixLength == 0 ? 0 : UInt32.max << UInt32(32 - min(prefixLength, 32)) }

    /// The text for a mask of addresses in `family`.
    public func text(for family: IPAddress.Family) -> String {
        family == .ipv4 ? IPv4Address(rawValue: ipv4Mask).description : String(prefixLength)
    }

    public var description: String { "/\(prefixLength)" }

    /// Parses a dotted IPv4 mask or a prefix length; the failure says why.
    static func parse(_ text: String) -> Result<Netmask, NetmaskError> {
        if let v4 = IPv4Address(text) {
            let ones = v4.rawValue.leadingZeroBitCount == 0 ? (~v4.rawValue).leadingZeroBitCount : 0
            guard ones == 32 || v4.rawValue << UInt32(ones) == 0 else { return .failure(.notContiguous) }
            return .success(Netmask(prefixLength: ones))
        }
        if !text.isEmpty, text.utf8.count <= 3, text.utf8.allSatisfy({ (48...57).contains($0) }), let n = Int(text),
            n <= 128
        {
            return .success(Netmask(prefixLength: n))
        }
        return .failure(.notAMask)
    }

    enum NetmaskError: Error {
        case notContiguous
        case notAMask
    }
}
