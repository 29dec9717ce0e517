/// The state a director announces in its heartbeat.
public enum HeartbeatState: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// Running and owning the virtual addresses.
    case active = 1
    /// Running and watching its peer.
    case backup = 2
    /// Shutting down: the peer should take over at once.
    case stopping = 3

    public var description: String {
        switch self {
        case .active: "active"
        case .backup: "backup"
        case .stopping: "stopping"
        }
    }
}

/// The role a director has in lvs.cf: `primary` or `backup` (the address it is configured under).
public enum ConfiguredRole: Sendable, Hashable, CustomStringConvertible {
    case primary
    case backup

    public var description: String { self == .primary ? "primary" : "backup" }
}

/// One heartbeat, as sent between the two directors.
///
/// Wire layout (big endian, 72 bytes):
///
///     0  magic "H2EB"          4  version (1)        5  state (HeartbeatState)
///     6  flags                 7  link index         8  sender id (u64)
///     16 sequence (u64)        24 boot id (u64)      32 send time (u64, ns since the Unix epoch)
///     40 HMAC-SHA256 over bytes 0..<40 (all zero when the heartbeat is unauthenticated)
///
/// `sequence` grows by one per message within one boot (`bootID`, random per process start); the receiver rejects
/// anything not newer than what it accepted for the same sender and boot id.
public struct HeartbeatMessage: Sendable, Hashable {
    public static let magic: [UInt8] = Array("H2EB".utf8)
    public static let version: UInt8 = 1
    /// Bytes covered by the MAC.
    public static let bodyLength = 40
    public static let macLength = 32
    public static let length = bodyLength + macLength

    public var state: HeartbeatState
    /// The sender's configured role.
    public var configuredRole: ConfiguredRole
    /// False when the sender's monitored links are down: it must not be relied on to take over.
    public var fit: Bool
    /// The heartbeat link (index into both directors' link lists) the message was sent on; a message captured on
    /// one link cannot be replayed on another.
    public var link: UInt8
    public var senderID: UInt64
    public var sequence: UInt64
    public var bootID: UInt64
    /// Send time, nanoseconds since the Unix epoch (the wall clock; both directors are expected to run NTP).
    public var sentAt: UInt64

    public init(
        state: HeartbeatState, configuredRole: ConfiguredRole, fit: Bool = true, link: UInt8 = 0, senderID: UInt64,
        sequence: UInt64, bootID: UInt64, sentAt: UInt64
    ) {
        self.state = state
        self.configuredRole = configuredRole
        self.fit = fit
        self.link = link
        self.senderID = senderID
        self.sequence = sequence
        self.bootID = bootID
        self.sentAt = sentAt
    }

    enum Flag {
        static let primary: UInt8 = 1 << 0
        static let unfit: UInt8 = 1 << 1
        static let known: UInt8 = primary | unfit
    }

    /// The 40 bytes the MAC covers.
    public var body: [UInt8] {
        var bytes = Self.magic
        bytes.reserveCapacity(Self.length)
        bytes.append(Self.version)
        bytes.append(state.rawValue)
        bytes.append((configuredRole == .primary ? Flag.primary : 0) | (fit ? 0 : Flag.unfit))
        bytes.append(link)
        for value in [senderID, sequence, bootID, sentAt] {
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// Decodes the body (first 40 bytes) of a datagram, checking magic, version, state and flags.
    /// The MAC is not checked here (see ``HeartbeatVerifier``).
    public init(decoding bytes: some Collection<UInt8>) throws(HeartbeatRejection) {
        guard bytes.count == Self.length else { throw .wrongLength }
        let b = Array(bytes)
        guard Array(b[0..<4]) == Self.magic, b[4] == Self.version else { throw .badMagic }
        guard let state = HeartbeatState(rawValue: b[5]), b[6] & ~Flag.known == 0 else {
            throw .malformed
        }
        func u64(_ offset: Int) -> UInt64 {
            b[offset..<offset + 8].reduce(0) { $0 << 8 | UInt64($1) }
        }
        self.init(
            state: state, configuredRole: b[6] & Flag.primary != 0 ? .primary : .backup,
            fit: b[6] & Flag.unfit == 0, link: b[7], senderID: u64(8), sequence: u64(16), bootID: u64(24), sentAt: u64(32))
    }
}
