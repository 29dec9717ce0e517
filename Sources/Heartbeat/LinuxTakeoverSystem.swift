/// The real ``TakeoverSystem``: rtnetlink for addresses, AF_PACKET for announcements (``Announcer``), /bin/sh for
/// commands.
public struct LinuxTakeoverSystem: TakeoverSystem {
    private let netlink: RouteNetlink
    private let announcer: Announcer

    /// - Parameter arpForms: which gratuitous ARP frames an IPv4 announcement sends.
    public init(netlink: RouteNetlink, arpForms: [AnnouncementFrame.ARPForm] = [.request]) {
        self.netlink = netlink
        self.announcer = Announcer(netlink: netlink, arpForms: arpForms)
    }

    public func add(_ address: VirtualAddress) async throws {
        try await netlink.add(address)
    }

    public func remove(_ address: VirtualAddress) async throws {
        try await netlink.remove(address)
    }

    public func announce(_ address: VirtualAddress) async throws {
        try await announcer.announce(address)
    }

    public func run(command: String) async throws {
        try await ShellCommand.run(command)
    }
}
