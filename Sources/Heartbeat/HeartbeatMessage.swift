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
/// Wire layout, version 2 (big endian, 72 bytes; docs/director.md "Heartbeat wire format"):
///
///     0  magic "H2EB"          4  version (2)        5  state (HeartbeatState)
///     6  flags                 7  link index         8  sender id (u64)
///     16 sequence (u64)        24 boot nonce (u64)   32 echo (u64)
///     40 HMAC-SHA256 over bytes 0..<40 (all zero when the heartbeat is unauthenticated)
///
/// - `bootID` is the sender's session nonce, random per process start.
/// - `echo` is the last boot nonce the sender accepted from the receiver (0 before it heard any). A receiver takes a
///   message as proof that the peer is alive only when `echo` is its own current nonce: a message captured before
///   the receiver started cannot carry it, so replays across a restart are useless, with no clock agreement needed.
/// - `sequence` starts at the sender's wall clock (ns since the Unix epoch) when its process starts and grows by one
///   per datagram, so it grows across the sender's restarts too, measured on the sender's own clock only. The
///   receiver rejects any sequence not above the last one it accepted from that sender on that link.
///
/// Version 1 (the same length, a send time at byte 32 instead of the echo, and a 30 s clock window) is refused with
/// ``HeartbeatRejection/wrongVersion``; a version 1 director refuses version 2 as "bad magic or version". Both
/// directors of a pair must run the same version.
public struct HeartbeatMessage: Sendable, Hashable {
    public static let magic: [UInt8] = Array("H2EB".utf8)
    public static let version: UInt8 = 2
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
    /// The sender's session nonce (random per process start).
    public var bootID: UInt64
    /// The receiver's session nonce as last heard by the sender; 0 when it has heard none.
    public var echo: UInt64

    public init(
        state: HeartbeatState, configuredRole: ConfiguredRole, fit: Bool = true, link: UInt8 = 0, senderID: UInt64,
        sequence: UInt64, bootID: UInt64, echo: UInt64 = 0
    ) {
        self.state = state
        self.configuredRole = configuredRole
        self.fit = fit
        self.link = link
        self.senderID = senderID
        self.sequence = sequence
        self.bootID = bootID
        self.echo = echo
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
        for value in [senderID, sequence, bootID, echo] {
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// Decodes the body (first 40 bytes) of a datagram, checking magic, version, length, state and flags, in that
    /// order (so a heartbeat of another version is reported as such whatever its length). The MAC is not checked
    /// here (see ``HeartbeatVerifier``).
    public init(decoding bytes: some Collection<UInt8>) throws(HeartbeatRejection) {
        try self.init(decoding: Array(bytes.prefix(Self.length + 1)))
    }

    /// The receive path's decoder: concrete types and plain indexing, cheap even in a debug build.
    public init(decoding b: [UInt8]) throws(HeartbeatRejection) {
        guard b.count >= 5, b[0] == Self.magic[0], b[1] == Self.magic[1], b[2] == Self.magic[2], b[3] == Self.magic[3]
        else { throw b.count == Self.length ? .badMagic : .wrongLength }
        guard b[4] == Self.version else { throw .wrongVersion }
        guard b.count == Self.length else { throw .wrongLength }
        guard let state = HeartbeatState(rawValue: b[5]), b[6] & ~Flag.known == 0 else {
            throw .malformed
        }
        func u64(_ offset: Int) -> UInt64 {
            var value: UInt64 = 0
            for i in offset..<offset + 8 { value = value << 8 | UInt64(b[i]) }
            return value
        }
        self.init(
            state: state, configuredRole: b[6] & Flag.primary != 0 ? .primary : .backup,
            fit: b[6] & Flag.unfit == 0, link: b[7], senderID: u64(8), sequence: u64(16), bootID: u64(24), echo: u64(32))
    }
}
