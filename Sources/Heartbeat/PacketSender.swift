import CPacket

#if canImport(Glibc)
import Glibc
#endif

/// Sends raw Ethernet frames out of one interface (AF_PACKET; needs CAP_NET_RAW).
///
/// The socket is opened in `init` and belongs to the network namespace of the calling thread.
public final class PacketSender: Sendable {
    public let interfaceIndex: Int32
    private let descriptor: Int32

    /// Opens a packet socket on interface `index` for frames of `ethertype` (e.g. 0x0806 ARP, 0x86DD IPv6).
    public init(interfaceIndex index: Int32, ethertype: UInt16) throws(PacketError) {
        let fd = h2e_packet_open(index, ethertype)
        guard fd >= 0 else { throw .open(interfaceIndex: index, errno: -fd) }
        interfaceIndex = index
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Sends one complete frame (destination MAC first).
    public func send(_ frame: [UInt8]) throws(PacketError) {
        let rc = frame.withUnsafeBufferPointer { h2e_packet_send(descriptor, interfaceIndex, $0.baseAddress, $0.count) }
        guard rc == frame.count else { throw .send(interfaceIndex: interfaceIndex, errno: rc < 0 ? Int32(-rc) : EIO) }
    }
}

/// A failed raw packet operation.
public enum PacketError: Error, Sendable, Hashable, CustomStringConvertible {
    case open(interfaceIndex: Int32, errno: Int32)
    case send(interfaceIndex: Int32, errno: Int32)

    public var description: String {
        switch self {
        case .open(let index, let code):
            "cannot open a packet socket on interface #\(index): \(String(cString: strerror(code)))"
                + (code == EPERM ? " (the director needs CAP_NET_RAW)" : "")
        case .send(let index, let code):
            "cannot send on interface #\(index): \(String(cString: strerror(code)))"
        }
    }
}
