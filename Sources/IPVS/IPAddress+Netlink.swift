import Addressing

extension IPAddress.Family {
    /// AF_INET (2) or AF_INET6 (10): how IPVS's netlink attributes and libipvs' sort name the family.
    public var addressFamily: UInt16 { self == .ipv4 ? 2 : 10 }

    public init?(addressFamily: UInt16) {
        switch addressFamily {
        case 2: self = .ipv4
        case 10: self = .ipv6
        default: return nil
        }
    }
}
