/// What BIRD reports about its sessions, as `status` shows it: each protocol (`show protocols`) and each BFD session
/// (`show bfd sessions`). The texts are BIRD's own, so an operator can match them against `birdc`.
public struct BirdStatus: Codable, Sendable, Hashable {
    public struct BirdProtocol: Codable, Sendable, Hashable {
        public var name: String
        /// `BGP`, `BFD`, `Direct`, `Device`, `Kernel`...
        public var proto: String
        /// `up`, `down`, `start`...
        public var state: String
        /// The rest of the line: since when, and for BGP the session state (`Established`, `Active  Socket: ...`).
        public var info: String
    }

    public struct BFDSession: Codable, Sendable, Hashable {
        public var address: String
        public var interface: String
        /// `Up`, `Down`, `Init`, `AdminDown`.
        public var state: String
        /// Since, interval and timeout, as BIRD prints them.
        public var info: String
    }

    public var protocols: [BirdProtocol]
    public var bfdSessions: [BFDSession]

    public init(protocols: [BirdProtocol] = [], bfdSessions: [BFDSession] = []) {
        self.protocols = protocols
        self.bfdSessions = bfdSessions
    }

    /// The BGP sessions that are not Established, by name: what an operator looks at first.
    public var bgpDown: [String] {
        protocols.filter { $0.proto == "BGP" && !($0.state == "up" && $0.info.contains("Established")) }.map(\.name)
    }

    /// Asks BIRD at `socket` (blocking: two commands, each with a deadline).
    public static func read(socket: String) throws(BirdControlError) -> BirdStatus {
        let control = BirdControl(socketPath: socket)
        let protocols = parseProtocols(try control.run("show protocols"))
        // A BIRD without a BFD protocol refuses the command: that is no failure, just no sessions.
        let bfd: [BFDSession]
        do {
            bfd = parseBFDSessions(try control.run("show bfd sessions"))
        } catch .refused {
            bfd = []
        }
        return BirdStatus(protocols: protocols, bfdSessions: bfd)
    }

    /// The rows (code 1002) of `show protocols`: name, protocol, table, state, then since and info.
    static func parseProtocols(_ lines: [BirdControl.Line]) -> [BirdProtocol] {
        lines.filter { $0.code == 1002 }.compactMap { line in
            let fields = line.text.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: true)
            guard fields.count >= 4 else { return nil }
            let rest = fields.count > 4 ? fields[4].trimmingSpaces : ""
            return BirdProtocol(name: String(fields[0]), proto: String(fields[1]), state: String(fields[3]), info: rest)
        }
    }

    /// The session rows (code 1020) of `show bfd sessions`, without the per-protocol titles and column headers.
    static func parseBFDSessions(_ lines: [BirdControl.Line]) -> [BFDSession] {
        lines.filter { $0.code == 1020 }.compactMap { line in
            let text = line.text.trimmingSpaces
            guard !text.isEmpty, !text.hasSuffix(":"), !text.hasPrefix("IP address") else { return nil }
            let fields = text.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
            guard fields.count >= 3 else { return nil }
            return BFDSession(
                address: String(fields[0]), interface: String(fields[1]), state: String(fields[2]),
                info: fields.count > 3 ? fields[3].trimmingSpaces : "")
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing blanks.
    var trimmingSpaces: String {
        let bytes = Array(utf8)
        guard let first = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
            let last = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x09 })
        else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}
