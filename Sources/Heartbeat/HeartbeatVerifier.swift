/// Accepts or rejects received heartbeat datagrams: length, magic and version, MAC, replay and time window.
///
/// A message is a replay when its sequence number is not greater than the last one accepted for the same sender id
/// boot id and link. Its send time must lie within ``window`` of the receiver's clock, which bounds how long the
/// per-boot sequence numbers must be remembered.
public struct HeartbeatVerifier: Sendable {
    public let authentication: HeartbeatAuthentication
    /// Accepted distance between a message's send time and the receiver's clock, either way.
    public let window: Duration
    /// Messages from this sender id are rejected (``HeartbeatRejection/ownSenderID``).
    public let ownSenderID: UInt64?
    /// Number of rejected datagrams, by kind.
    public private(set) var rejections: [HeartbeatRejection: Int] = [:]
    /// Number of accepted messages.
    public private(set) var accepted = 0

    private struct Stream: Hashable {
        var sender: UInt64
        var boot: UInt64
        var link: UInt8
    }
    private var last: [Stream: (sequence: UInt64, sentAt: UInt64)] = [:]

    public init(authentication: HeartbeatAuthentication, window: Duration = .seconds(30), ownSenderID: UInt64? = nil) {
        self.authentication = authentication
        self.window = window
        self.ownSenderID = ownSenderID
    }

    /// Counts a rejection decided outside the verifier (e.g. ``HeartbeatRejection/unexpectedSource``).
    public mutating func count(_ rejection: HeartbeatRejection) {
        rejections[rejection, default: 0] += 1
    }

    /// Verifies `datagram` received on heartbeat link `link` at wall-clock time `now` (ns since the Unix epoch).
    public mutating func verify(
        _ datagram: some Collection<UInt8>, link: UInt8 = 0, now: UInt64
    ) -> Result<HeartbeatMessage, HeartbeatRejection> {
        let result = check(Array(datagram), link: link, now: now)
        switch result {
        case .success: accepted += 1
        case .failure(let rejection): count(rejection)
        }
        return result
    }

    private mutating func check(_ datagram: [UInt8], link: UInt8, now: UInt64) -> Result<HeartbeatMessage, HeartbeatRejection> {
        let message: HeartbeatMessage
        do {
            message = try HeartbeatMessage(decoding: datagram)
        } catch {
            return .failure(error)
        }
        guard authentication.isAuthentic(datagram) else { return .failure(.badMAC) }
        if message.senderID == ownSenderID { return .failure(.ownSenderID) }
        guard message.link == link else { return .failure(.wrongLink) }
        let windowNanoseconds = UInt64(window.components.seconds) * 1_000_000_000
            + UInt64(window.components.attoseconds / 1_000_000_000)
        let distance = message.sentAt > now ? message.sentAt - now : now - message.sentAt
        guard distance <= windowNanoseconds else { return .failure(.outsideTimeWindow) }
        let stream = Stream(sender: message.senderID, boot: message.bootID, link: link)
        if let previous = last[stream], message.sequence <= previous.sequence { return .failure(.replay) }
        last[stream] = (message.sequence, message.sentAt)
        // A stream whose newest message is older than the window can only be replayed outside the window.
        let oldest = now > windowNanoseconds ? now - windowNanoseconds : 0
        last = last.filter { $0.value.sentAt >= oldest }
        return .success(message)
    }
}
