import CNetlink
import HostSystem

#if canImport(Glibc)
import Glibc
#endif

/// What the kernel says about one network interface.
public struct InterfaceInfo: Sendable, Hashable {
    public var index: Int32
    /// The hardware address (6 bytes on Ethernet).
    public var mac: [UInt8]
    /// Administratively up and with carrier (IFF_UP and IFF_RUNNING).
    public var isUp: Bool
}

/// An rtnetlink (NETLINK_ROUTE) client over libnl-route: interface lookups and address add/remove.
///
/// The socket is opened in `init` and belongs to the network namespace of the calling thread. Its requests block, so
/// the actor runs on ``executor``, a thread of its own (the takeover's announcer shares it), never on Swift's
/// cooperative pool.
public actor RouteNetlink {
    /// Where rtnetlink requests and announcements run.
    public static let executor = BlockingExecutor(label: "h2e.rtnetlink")

    public nonisolated var unownedExecutor: UnownedSerialExecutor { Self.executor.asUnownedSerialExecutor() }

    private final class Socket {
        let pointer: OpaquePointer
        init() throws(RouteNetlinkError) {
            guard let socket = nl_socket_alloc() else { throw .system("nl_socket_alloc", code: -Int32(NLE_NOMEM)) }
            let rc = nl_connect(socket, NETLINK_ROUTE)
            guard rc == 0 else {
                nl_socket_free(socket)
                throw .system("connecting to rtnetlink", code: rc)
            }
            pointer = socket
        }
        deinit { nl_socket_free(pointer) }
    }

    private let socket: Socket

    public init() throws(RouteNetlinkError) {
        socket = try Socket()
    }

    /// Looks interface `name` up.
    public func interface(named name: String) throws(RouteNetlinkError) -> InterfaceInfo {
        var link: OpaquePointer?
        let rc = rtnl_link_get_kernel(socket.pointer, 0, name, &link)
        guard rc == 0, let link else {
            throw rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV ? .noSuchInterface(name) : .system("looking up \(name)", code: rc)
        }
        defer { rtnl_link_put(link) }
        var mac: [UInt8] = []
        if let address = rtnl_link_get_addr(link), let raw = nl_addr_get_binary_addr(address) {
            mac = Array(UnsafeRawBufferPointer(start: raw, count: Int(nl_addr_get_len(address))))
        }
        let flags = rtnl_link_get_flags(link)
        let up = flags & UInt32(IFF_UP) != 0 && flags & UInt32(IFF_RUNNING) != 0
        return InterfaceInfo(index: Int32(rtnl_link_get_ifindex(link)), mac: mac, isUp: up)
    }

    /// Adds `vip` to its interface (with its label; IPv6 without duplicate address detection, so the address is
    /// usable at once even if the old owner still holds it). Returns false when it was already there.
    @discardableResult
    public func add(_ vip: VirtualAddress) throws(RouteNetlinkError) -> Bool {
        let rc = try withAddress(vip) { socket, address in rtnl_addr_add(socket, address, 0) }
        if rc == -NLE_EXIST { return false }
        guard rc == 0 else { throw .system("adding \(vip)", code: rc) }
        return true
    }

    /// Removes `vip` from its interface. Returns false when it was not there.
    @discardableResult
    public func remove(_ vip: VirtualAddress) throws(RouteNetlinkError) -> Bool {
        let rc = try withAddress(vip) { socket, address in rtnl_addr_delete(socket, address, 0) }
        if rc == -NLE_NOADDR || rc == -NLE_OBJ_NOTFOUND { return false }
        guard rc == 0 else { throw .system("removing \(vip)", code: rc) }
        return true
    }

    private func withAddress(
        _ vip: VirtualAddress, _ body: (OpaquePointer, OpaquePointer) -> Int32
    ) throws(RouteNetlinkError) -> Int32 {
        let index = try interface(named: vip.device).index
        guard let address = rtnl_addr_alloc() else { throw .system("rtnl_addr_alloc", code: -Int32(NLE_NOMEM)) }
        defer { rtnl_addr_put(address) }
        let family = vip.isIPv6 ? AF_INET6 : AF_INET
        guard let local = vip.bytes.withUnsafeBytes({ nl_addr_build(family, $0.baseAddress, $0.count) }) else {
            throw .system("nl_addr_build", code: -Int32(NLE_NOMEM))
        }
        defer { nl_addr_put(local) }
        nl_addr_set_prefixlen(local, Int32(vip.prefixLength))
        rtnl_addr_set_ifindex(address, index)
        rtnl_addr_set_family(address, family)
        var rc = rtnl_addr_set_local(address, local)
        guard rc == 0 else { throw .system("rtnl_addr_set_local", code: rc) }
        rtnl_addr_set_prefixlen(address, Int32(vip.prefixLength))
        if let label = vip.label {
            rc = rtnl_addr_set_label(address, label)
            guard rc == 0 else { throw .system("setting label \(label)", code: rc) }
        }
        if vip.isIPv6 { rtnl_addr_set_flags(address, UInt32(IFA_F_NODAD)) }
        return body(socket.pointer, address)
    }
}

/// A failed rtnetlink request.
public enum RouteNetlinkError: Error, Sendable, Hashable, CustomStringConvertible {
    case noSuchInterface(String)
    /// `code` is a negative libnl error code.
    case system(String, code: Int32)

    public var description: String {
        switch self {
        case .noSuchInterface(let name): "no network interface \(name): check the device in lvs.cf's address lines"
        case .system(let what, let code):
            "\(what): \(String(cString: nl_geterror(code)))"
                + (code == -NLE_PERM ? " (the director needs CAP_NET_ADMIN)" : "")
        }
    }
}
