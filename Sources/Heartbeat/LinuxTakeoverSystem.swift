/// The real ``TakeoverSystem``: rtnetlink for addresses, AF_PACKET for announcements, /bin/sh for commands.
public struct LinuxTakeoverSystem: TakeoverSystem {
    /// Which gratuitous ARP frames an IPv4 announcement sends.
    public var arpForms: [AnnouncementFrame.ARPForm]
    private let netlink: RouteNetlink

    public init(netlink: RouteNetlink, arpForms: [AnnouncementFrame.ARPForm] = [.request]) {
        self.netlink = netlink
        self.arpForms = arpForms
    }

    public func add(_ address: VirtualAddress) async throws {
        try await netlink.add(address)
    }

    public func remove(_ address: VirtualAddress) async throws {
        try await netlink.remove(address)
    }

    public func announce(_ address: VirtualAddress) async throws {
        let interface = try await netlink.interface(named: address.device)
        guard interface.mac.count == 6 else { throw AnnouncementError.noEthernetAddress(address.device) }
        if address.isIPv6 {
            let sender = try PacketSender(interfaceIndex: interface.index, ethertype: 0x86DD)
            try sender.send(AnnouncementFrame.unsolicitedNeighborAdvertisement(address: address.bytes, mac: interface.mac))
        } else {
            let sender = try PacketSender(interfaceIndex: interface.index, ethertype: 0x0806)
            for form in arpForms {
                try sender.send(AnnouncementFrame.gratuitousARP(address: address.bytes, mac: interface.mac, form: form))
            }
        }
    }

    public func run(command: String) async throws {
        try await ShellCommand.run(command)
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
