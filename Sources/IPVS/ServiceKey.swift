import Addressing

/// What identifies a virtual service in the kernel: protocol + address + port, or a firewall mark and family.
public enum ServiceKey: Hashable, Sendable, CustomStringConvertible {
    case address(IPVSProtocol, IPAddress, port: UInt16)
    case firewallMark(UInt32, family: IPAddress.Family)

    public var family: IPAddress.Family {
        switch self {
        case .address(_, let address, _): address.family
        case .firewallMark(_, let family): family
        }
    }

    /// `TCP 10.0.0.1:80`, `FWM 100`, `FWM 100 IPv6`: how logs and `apply` name a service.
    public var description: String {
        switch self {
        case .address(let proto, let address, let port): "\(proto) \(address.withPort(port))"
        case .firewallMark(let mark, let family): family == .ipv4 ? "FWM \(mark)" : "FWM \(mark) IPv6"
        }
    }
}

extension ServiceKey: Codable {
    private enum CodingKeys: String, CodingKey { case `protocol`, address, port, fwmark, family }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let mark = try c.decodeIfPresent(UInt32.self, forKey: .fwmark) {
            let family = try c.decodeIfPresent(String.self, forKey: .family) == "inet6" ? IPAddress.Family.ipv6 : .ipv4
            self = .firewallMark(mark, family: family)
        } else {
            let name = try c.decode(String.self, forKey: .protocol)
            guard let proto = IPVSProtocol.allCases.first(where: { $0.description.lowercased() == name.lowercased() }) else {
                throw DecodingError.dataCorruptedError(forKey: .protocol, in: c, debugDescription: "unknown protocol \(name)")
            }
            self = .address(proto, try c.decode(IPAddress.self, forKey: .address), port: try c.decode(UInt16.self, forKey: .port))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .address(let proto, let address, let port):
            try c.encode(proto.description.lowercased(), forKey: .protocol)
            try c.encode(address, forKey: .address)
            try c.encode(port, forKey: .port)
        case .firewallMark(let mark, let family):
            try c.encode(mark, forKey: .fwmark)
            try c.encode(family == .ipv4 ? "inet" : "inet6", forKey: .family)
        }
    }
}
