/// How a director hands packets to a real server (`IP_VS_CONN_F_*` forwarding bits).
public enum ForwardingMethod: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    /// NAT: the director rewrites the destination (ipvsadm `-m`, "Masq").
    case masquerade = 0
    case localNode = 1
    /// IP-in-IP (ipvsadm `-i`, "Tunnel").
    case tunnel = 2
    /// Direct routing: only the MAC changes (ipvsadm `-g`, "Route"), Piranha's `network = direct`.
    case directRoute = 3

    /// The name ipvsadm prints in its Forward column.
    public var ipvsadmName: String {
        switch self {
        case .masquerade: "Masq"
        case .localNode: "Local"
        case .tunnel: "Tunnel"
        case .directRoute: "Route"
        }
    }

    public var description: String {
        switch self {
        case .masquerade: "nat"
        case .localNode: "local"
        case .tunnel: "tunnel"
        case .directRoute: "route"
        }
    }
}

extension ForwardingMethod: Codable {
    /// Encoded by name (`route`, `nat`, `tunnel`, `local`), the words the config and logs use.
    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let method = Self.allCases.first(where: { $0.description == name }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown forwarding method \(name)"))
        }
        self = method
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
