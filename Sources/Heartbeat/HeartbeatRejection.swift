/// Why a received datagram was not accepted as a heartbeat. Each kind is counted (``HeartbeatStatistics/rejections``)
/// and logged at most once per interval (``HeartbeatRejectionLog``).
public enum HeartbeatRejection: Error, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Not exactly ``HeartbeatMessage/length`` bytes.
    case wrongLength
    /// Not an h2e heartbeat.
    case badMagic
    /// An h2e heartbeat of another protocol version: the two directors run different releases.
    case wrongVersion
    /// Unknown state or flags.
    case malformed
    /// The HMAC does not match: forged, corrupted, or the two directors use different keys.
    case badMAC
    /// The sequence number is not above one already accepted from that sender on that link.
    case replay
    /// Authentic, but it does not echo this director's current session nonce: sent before this director started
    /// (a replay across a restart), or the peer has not heard this director yet. It proves nothing about the peer
    /// being alive; its nonce is still learned (the handshake).
    case notEchoed
    /// The message names another link than the one it arrived on (replayed from another link, or miswired).
    case wrongLink
    /// The datagram did not come from the peer address configured for that link.
    case unexpectedSource
    /// The message carries this director's own sender id (a reflection, or both directors share an id).
    case ownSenderID

    public var description: String {
        switch self {
        case .wrongLength: "wrong length: not an h2e heartbeat"
        case .badMagic: "bad magic: not an h2e heartbeat"
        case .wrongVersion:
            "heartbeat of another protocol version (this director speaks version \(HeartbeatMessage.version)): "
                + "upgrade both directors to the same h2e release"
        case .malformed: "malformed heartbeat: unknown state or flags"
        case .badMAC: "bad HMAC: forged or corrupted, or the directors' heartbeat_key files differ"
        case .replay: "replayed heartbeat: sequence number not above one already accepted"
        case .notEchoed: "heartbeat does not echo this director's session nonce: sent before it started, or the handshake is under way"
        case .wrongLink: "heartbeat sent for another link: replayed, or the directors list their links in different orders"
        case .unexpectedSource: "heartbeat from an address that is not the configured peer"
        case .ownSenderID: "heartbeat carries this director's own sender id: check the peer's configuration"
        }
    }

    /// A short stable name (metrics label, log metadata key).
    public var label: String {
        switch self {
        case .wrongLength: "wrongLength"
        case .badMagic: "badMagic"
        case .wrongVersion: "wrongVersion"
        case .malformed: "malformed"
        case .badMAC: "badMAC"
        case .replay: "replay"
        case .notEchoed: "notEchoed"
        case .wrongLink: "wrongLink"
        case .unexpectedSource: "unexpectedSource"
        case .ownSenderID: "ownSenderID"
        }
    }
}
