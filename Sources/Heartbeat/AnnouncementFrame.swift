/// Ethernet frames that tell a LAN where a (moved) address now lives. Pure byte builders.
public enum AnnouncementFrame {
    /// The two gratuitous ARP forms.
    public enum ARPForm: Sendable, Hashable {
        /// ARP request with sender IP = target IP = the address (what Piranha's send_arp sends; RFC 5227 announcement).
        case request
        /// ARP reply with sender IP = target IP = the address, to the broadcast address.
        case reply
    }

    static let broadcast: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
    /// All-nodes multicast ff02::1 and its Ethernet mapping.
    static let allNodes: [UInt8] = [0xFF, 0x02] + [UInt8](repeating: 0, count: 13) + [1]
    static let allNodesMAC: [UInt8] = [0x33, 0x33, 0, 0, 0, 1]

    /// A broadcast gratuitous ARP frame for IPv4 `address` (4 bytes) at `mac` (6 bytes), padded to 60 bytes.
    public static func gratuitousARP(address: [UInt8], mac: [UInt8], form: ARPForm = .request) -> [UInt8] {
        precondition(address.count == 4 && mac.count == 6)
        var frame = broadcast + mac + [0x08, 0x06]
        frame += [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, form == .request ? 1 : 2]
        frame += mac + address
        frame += (form == .request ? [UInt8](repeating: 0, count: 6) : broadcast) + address
        return frame + [UInt8](repeating: 0, count: 60 - frame.count)
    }

    /// An unsolicited neighbour advertisement (ICMPv6 type 136, override flag, target link-layer address option)
    /// for IPv6 `address` (16 bytes) at `mac`, from `address` to ff02::1, hop limit 255.
    public static func unsolicitedNeighborAdvertisement(address: [UInt8], mac: [UInt8]) -> [UInt8] {
        precondition(address.count == 16 && mac.count == 6)
        var icmp: [UInt8] = [136, 0, 0, 0, 0x20, 0, 0, 0]  // type, code, checksum, flags R=0 S=0 O=1
        icmp += address
        icmp += [2, 1] + mac  // option: target link-layer address, 8 bytes
        let checksum = icmpv6Checksum(source: address, destination: allNodes, message: icmp)
        icmp[2] = UInt8(checksum >> 8)
        icmp[3] = UInt8(checksum & 0xFF)
        let length = UInt16(icmp.count)
        var ipv6: [UInt8] = [0x60, 0, 0, 0, UInt8(length >> 8), UInt8(length & 0xFF), 58, 255]
        ipv6 += address + allNodes
        return allNodesMAC + mac + [0x86, 0xDD] + ipv6 + icmp
    }

    /// The Internet checksum of `message` with the IPv6 pseudo-header (RFC 8200 section 8.1, next header 58).
    static func icmpv6Checksum(source: [UInt8], destination: [UInt8], message: [UInt8]) -> UInt16 {
        let length = UInt32(message.count)
        var bytes = source + destination
        bytes += [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        bytes += [0, 0, 0, 58] + message
        if bytes.count % 2 == 1 { bytes.append(0) }
        var sum: UInt32 = 0
        for i in stride(from: 0, to: bytes.count, by: 2) { sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1]) }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
