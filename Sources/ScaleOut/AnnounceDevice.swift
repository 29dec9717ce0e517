import CLinux
import Heartbeat
import HostSystem

#if canImport(Glibc)
import Glibc
#endif

/// The interface a scale-out director puts the addresses it announces on: a TUN device this process creates and
/// owns, which BIRD's `protocol direct` watches (Packaging/bird/h2e-director-bird.conf).
///
/// The device is not persistent: the kernel deletes it, with every address on it, when its descriptor closes,
/// and so when the director dies, even by `kill -9`. BIRD then sees the addresses go and withdraws their routes, so
/// a dead director stops drawing traffic without anyone having to notice it. The device sends no ARP, so the LAN
/// never learns the VIP from a director: the routers reach it through BGP only.
///
/// Each address announced once also goes on `lo`, and stays there until the director stops: a local address is
/// what makes the kernel hand the VIP's packets to IPVS. While a dead director's routes are being withdrawn (a BGP
/// update, a second or so), the router still sends it new connections; its IPVS table outlives the process, and
/// with the VIP still local it goes on serving them instead of refusing them.
///
/// Runs on ``RouteNetlink/executor`` (its calls block), never on Swift's cooperative pool.
public actor AnnounceDevice {
    public nonisolated var unownedExecutor: UnownedSerialExecutor { RouteNetlink.executor.asUnownedSerialExecutor() }

    /// The device's name (lvs.cf `announce_device`).
    public nonisolated let name: String
    private var descriptor: Int32
    private let netlink: RouteNetlink
    /// What is on the device now.
    private var current: Set<VirtualAddress> = []
    /// The addresses put on `lo`.
    private var local: Set<VirtualAddress> = []
    /// `net.ipv4.vs.sloppy_tcp` was set (it is set before the first address goes up).
    private var sloppy = false

    /// Creates the device and brings it up. Throws when it cannot: no /dev/net/tun (`modprobe tun`), no
    /// CAP_NET_ADMIN, or another process holds a device of that name.
    public init(name: String) throws(AnnounceDeviceError) {
        let fd = h2e_tun_open(name)
        guard fd >= 0 else {
            let code = -fd
            let hint: String
            switch code {
            case ENOENT, ENODEV: hint = "the kernel has no TUN driver loaded: modprobe tun"
            case EPERM, EACCES: hint = "the director needs CAP_NET_ADMIN"
            case EBUSY: hint = "another process holds \(name): is another h2e-director running?"
            case EINVAL: hint = "\(name) exists and is not a TUN device: remove it, or set another announce_device"
            default: hint = "check /dev/net/tun"
            }
            throw AnnounceDeviceError(what: "creating the TUN device \(name)", code: code, hint: hint)
        }
        let up = h2e_link_up(name)
        guard up == 0 else {
            Glibc.close(fd)
            throw AnnounceDeviceError(what: "bringing \(name) up", code: -up, hint: "the director needs CAP_NET_ADMIN")
        }
        do {
            netlink = try RouteNetlink()
        } catch {
            Glibc.close(fd)
            throw AnnounceDeviceError(what: "opening route netlink: \(error)", code: 0, hint: "")
        }
        self.name = name
        self.descriptor = fd
    }

    /// Makes the device hold exactly `addresses`: withdrawals first (a director that loses its last real server
    /// stops drawing traffic before anything else), then the new ones. Returns one line per failure; an address
    /// that failed is tried again by the next call.
    public func announce(_ addresses: [VirtualAddress]) async -> [String] {
        guard descriptor >= 0 else { return ["\(name) is closed: nothing is announced"] }
        var failures: [String] = []
        let wanted = Set(addresses)
        for address in current where !wanted.contains(address) {
            do {
                try await netlink.remove(address)
                current.remove(address)
            } catch {
                failures.append("withdrawing \(address.address): \(error)")
            }
        }
        if !sloppy, !addresses.isEmpty {
            // The director that a moved flow lands on has never seen its SYN: sloppy_tcp lets IPVS take it up
            // mid-flow, and mh sends it to the real server every director picks.
            if let problem = Self.setSloppyTCP() { failures.append(problem) } else { sloppy = true }
        }
        for address in addresses where !current.contains(address) {
            do {
                let onLoopback = try Self.loopback(address)
                if !local.contains(onLoopback) {
                    try await netlink.add(onLoopback)
                    local.insert(onLoopback)
                }
                try await netlink.add(address)
                current.insert(address)
            } catch {
                failures.append("announcing \(address.address): \(error)")
            }
        }
        return failures
    }

    /// Deletes the device, which withdraws everything, and takes the addresses off `lo` (a stopping director).
    public func close() async {
        guard descriptor >= 0 else { return }
        Glibc.close(descriptor)
        descriptor = -1
        current = []
        for address in local { _ = try? await netlink.remove(address) }
        local = []
    }

    static func loopback(_ address: VirtualAddress) throws -> VirtualAddress {
        try VirtualAddress(address: "\(address.address) lo")
    }

    /// Sets `net.ipv4.vs.sloppy_tcp` (and sctp's) in this network namespace; nil when done, else why not.
    static func setSloppyTCP() -> String? {
        let path = "/proc/sys/net/ipv4/vs/sloppy_tcp"
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else {
            return "cannot set \(path): \(String(cString: strerror(errno))) (is ip_vs loaded?); a director that takes over "
                + "a flow mid-way will drop it"
        }
        defer { Glibc.close(fd) }
        let written = write(fd, "1\n", 2)
        return written == 2 ? nil : "cannot write \(path): \(String(cString: strerror(errno)))"
    }

    deinit {
        if descriptor >= 0 { Glibc.close(descriptor) }
    }
}

/// Why the announce device could not be made.
public struct AnnounceDeviceError: Error, Sendable, CustomStringConvertible {
    public var what: String
    public var code: Int32
    public var hint: String

    public var description: String {
        let reason = code == 0 ? "" : ": \(String(cString: strerror(code)))"
        return "\(what)\(reason)" + (hint.isEmpty ? "" : " (\(hint))")
    }
}
