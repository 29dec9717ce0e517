/// The transport protocol of an address-keyed virtual service (IANA protocol numbers, as the kernel wants them).
public enum IPVSProtocol: UInt16, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case tcp = 6
    case udp = 17
    case sctp = 132

    /// `TCP`, `UDP`, `SCTP`: ipvsadm's column.
    public var description: String {
        switch self {
        case .tcp: "TCP"
        case .udp: "UDP"
        case .sctp: "SCTP"
        }
    }
}
