/// Sends the gratuitous ARP and unsolicited neighbour advertisements of a takeover.
///
/// The interface's index and hardware address and the packet sockets are looked up once and kept across
/// announcements, so a takeover's repeated announcements cost one send each. A send that fails drops everything kept
/// and is tried once more with a fresh lookup (the interface may have been re-created).
public actor Announcer {
    private let netlink: RouteNetlink
    /// Which gratuitous ARP frames an IPv4 announcement sends.
    public let arpForms: [AnnouncementFrame.ARPForm]
    private var interfaces: [String: InterfaceInfo] = [:]
    private var senders: [SenderKey: PacketSender] = [:]

    private struct SenderKey: Hashable {
        var interfaceIndex: Int32
        var ethertype: UInt16
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor { RouteNetlink.executor.asUnownedSerialExecutor() }

    public init(netlink: RouteNetlink, arpForms: [AnnouncementFrame.ARPForm] = [.request]) {
        self.netlink = netlink
        self.arpForms = arpForms
    }

    public func announce(_ address: VirtualAddress) async throws {
        do {
            try await send(address)
        } catch {
            interfaces = [:]
            senders = [:]
            try await send(address)
        }
    }

    private func send(_ address: VirtualAddress) async throws {
        let interface = try await interface(address.device)
        guard interface.mac.count == 6 else { throw AnnouncementError.noEthernetAddress(address.device) }
        if address.isIPv6 {
            try sender(interface, ethertype: 0x86DD)
                .send(AnnouncementFrame.unsolicitedNeighborAdvertisement(address: address.bytes, mac: interface.mac))
        } else {
            let sender = try sender(interface, ethertype: 0x0806)
            for form in arpForms {
                try sender.send(AnnouncementFrame.gratuitousARP(address: address.bytes, mac: interface.mac, form: form))
            }
        }
    }

    private func interface(_ device: String) async throws -> InterfaceInfo {
        if let known = interfaces[device] { return known }
        let found = try await netlink.interface(named: device)
        interfaces[device] = found
        return found
    }

    private func sender(_ interface: InterfaceInfo, ethertype: UInt16) throws -> PacketSender {
        let key = SenderKey(interfaceIndex: interface.index, ethertype: ethertype)
        if let known = senders[key] { return known }
        let opened = try PacketSender(interfaceIndex: interface.index, ethertype: ethertype)
        senders[key] = opened
        return opened
    }
}

/// An address that cannot be announced.
public enum AnnouncementError: Error, Sendable, Hashable, CustomStringConvertible {
    case noEthernetAddress(String)

    public var description: String {
        switch self {
        case .noEthernetAddress(let device):
            "\(device) has no Ethernet address: virtual addresses need an Ethernet interface to be announced"
        }
    }
}
