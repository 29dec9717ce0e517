/// Why a received datagram was not accepted as a heartbeat. Each kind is counted (``HeartbeatVerifier/rejections``).
public enum HeartbeatRejection: Error, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Not exactly ``HeartbeatMessage/length`` bytes.
    case wrongLength
    /// Not an h2e heartbeat of this version.
    case badMagic
    /// Unknown state or flags.
    case malformed
    /// The HMAC does not match: forged, corrupted, or the two directors use different keys.
    case badMAC
    /// The sequence number is not newer than one already accepted from that sender and boot.
    case replay
    /// The send time is outside the accepted window around this director's clock.
    case outsideTimeWindow
    /// The message names another link than the one it arrived on (replayed from another link, or miswired).
    case wrongLink
    /// The datagram did not come from the peer address configured for that link.
    case unexpectedSource
    /// The message carries this director's own sender id (a reflection, or both directors share an id).
    case ownSenderID

    public var description: String {
        switch self {
        case .wrongLength: "wrong length: not an h2e heartbeat"
        case .badMagic: "bad magic or version: not an h2e heartbeat of this version (upgrade both directors)"
        case .malformed: "malformed heartbeat: unknown state or flags"
        case .badMAC: "bad HMAC: forged or corrupted, or the directors' heartbeat_key files differ"
        case .replay: "replayed heartbeat: sequence number not newer than one already accepted"
        case .outsideTimeWindow: "heartbeat send time outside the window: check both directors' clocks (NTP)"
        case .wrongLink: "heartbeat sent for another link: replayed, or the directors list their links in different orders"
        case .unexpectedSource: "heartbeat from an address that is not the configured peer"
        case .ownSenderID: "heartbeat carries this director's own sender id: check the peer's configuration"
        }
    }
}
