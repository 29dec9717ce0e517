/// Accepts or rejects the datagrams received on one heartbeat link, cheapest check first, so that a flood of forged
/// datagrams costs little and never reaches the role logic:
///
/// 1. magic, version, length, state and flags (``HeartbeatMessage/init(decoding:)``): a few byte compares;
/// 2. the link byte and the sender id (not this director's own);
/// 3. the per-sender sequence floor: a sequence not above the last one accepted from that sender on this link is a
///    replay, rejected without computing the HMAC (a forger without the key gains nothing by passing it: the HMAC
///    comes next);
/// 4. the HMAC (the only costly step, about a microsecond).
///
/// The floor only moves on an authentic message, so forged datagrams cannot raise it to lock the peer out. It is kept
/// per sender id, and only authentic senders create entries: the memory is bounded by the number of real peers.
///
/// The source address is checked by the caller before any of this (``HeartbeatService``). Whether a message proves the
/// peer alive (its echo of this director's session nonce) is decided by ``PeerStateMachine``.
public struct HeartbeatVerifier: Sendable {
    public let authentication: HeartbeatAuthentication
    /// The link this verifier serves (index in both directors' link lists).
    public let link: UInt8
    /// Messages from this sender id are rejected (``HeartbeatRejection/ownSenderID``).
    public let ownSenderID: UInt64?
    /// Number of rejected datagrams, by kind.
    public private(set) var rejections: [HeartbeatRejection: Int] = [:]
    /// Number of accepted messages.
    public private(set) var accepted = 0
    private var floor: [UInt64: UInt64] = [:]

    public init(authentication: HeartbeatAuthentication, link: UInt8 = 0, ownSenderID: UInt64? = nil) {
        self.authentication = authentication
        self.link = link
        self.ownSenderID = ownSenderID
    }

    /// Counts a rejection decided outside the verifier (e.g. ``HeartbeatRejection/unexpectedSource``).
    public mutating func count(_ rejection: HeartbeatRejection) {
        rejections[rejection, default: 0] += 1
    }

    /// Verifies one received datagram.
    public mutating func verify(_ datagram: some Collection<UInt8>) -> Result<HeartbeatMessage, HeartbeatRejection> {
        verify(Array(datagram), using: HeartbeatAuthenticator(authentication))
    }

    /// Verifies one received datagram with a precomputed key schedule (the receive path's).
    mutating func verify(
        _ datagram: [UInt8], using authenticator: HeartbeatAuthenticator
    ) -> Result<HeartbeatMessage, HeartbeatRejection> {
        let result = check(datagram, authenticator)
        switch result {
        case .success: accepted += 1
        case .failure(let rejection): count(rejection)
        }
        return result
    }

    private mutating func check(
        _ datagram: [UInt8], _ authenticator: HeartbeatAuthenticator
    ) -> Result<HeartbeatMessage, HeartbeatRejection> {
        let message: HeartbeatMessage
        do {
            message = try HeartbeatMessage(decoding: datagram)
        } catch {
            return .failure(error)
        }
        guard message.link == link else { return .failure(.wrongLink) }
        if message.senderID == ownSenderID { return .failure(.ownSenderID) }
        if let last = floor[message.senderID], message.sequence <= last { return .failure(.replay) }
        guard authenticator.isAuthentic(datagram) else { return .failure(.badMAC) }
        floor[message.senderID] = message.sequence
        return .success(message)
    }
}
