import Crypto

#if canImport(Glibc)
import Glibc
#endif

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How heartbeats are authenticated: HMAC-SHA256 with a shared key, or not at all (only when lvs.cf says so).
public enum HeartbeatAuthentication: Sendable {
    /// The key's bytes (swift-crypto's `SymmetricKey` is not `Sendable`).
    case hmacSHA256(key: [UInt8])
    /// lvs.cf `heartbeat_auth = none`: anyone who can reach the heartbeat port can make this director give up
    /// or take over its VIPs.
    case none

    /// The shortest key accepted from a key file.
    public static let minimumKeyLength = 16

    /// Decides the authentication from lvs.cf's `heartbeat_key` (a file) and `heartbeat_auth` settings.
    ///
    /// A director without a key refuses to start unless the configuration explicitly says `heartbeat_auth = none`.
    /// - Parameters:
    ///   - keyFile: the `heartbeat_key` value, if any.
    ///   - auth: the `heartbeat_auth` value, if any: `hmac-sha256` (the default) or `none`.
    public static func resolve(keyFile: String?, auth: String?) throws(HeartbeatKeyError) -> HeartbeatAuthentication {
        switch auth {
        case nil, "hmac-sha256":
            guard let keyFile else { throw .noKey }
            return .hmacSHA256(key: try loadKey(path: keyFile))
        case "none":
            if let keyFile { throw .keyWithoutAuthentication(keyFile) }
            return .none
        case let other?:
            throw .unknownAuthentication(other)
        }
    }

    /// Reads a key file: its whole content, without trailing newline characters, is the key.
    /// The file must not be readable by group or others, and must hold at least ``minimumKeyLength`` bytes.
    public static func loadKey(path: String) throws(HeartbeatKeyError) -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .unreadable(path, errno: errno) }
        guard info.st_mode & 0o077 == 0 else { throw .tooOpen(path, mode: UInt32(info.st_mode & 0o777)) }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path, errno: EACCES)
        }
        var bytes = [UInt8](data)
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        guard bytes.count >= minimumKeyLength else { throw .tooShort(path, length: bytes.count) }
        return bytes
    }

    /// The datagram for `message`: its body followed by the MAC (zeros when unauthenticated).
    public func seal(_ message: HeartbeatMessage) -> [UInt8] {
        let body = message.body
        switch self {
        case .hmacSHA256(let key):
            return body + Array(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: key)))
        case .none:
            return body + [UInt8](repeating: 0, count: HeartbeatMessage.macLength)
        }
    }

    /// Whether the last 32 bytes of `datagram` are the MAC of its first 40 (always true when unauthenticated).
    func isAuthentic(_ datagram: [UInt8]) -> Bool { HeartbeatAuthenticator(self).isAuthentic(datagram) }
}

/// Checks MACs with the key schedule computed once (the HMAC's inner and outer key pads), so a check costs two
/// SHA-256 blocks and no allocation of a key: a flood's forged datagrams are cheap to reject. Not `Sendable`
/// (swift-crypto's HMAC is not): each heartbeat socket's handler owns one.
struct HeartbeatAuthenticator {
    private let base: HMAC<SHA256>?

    init(_ authentication: HeartbeatAuthentication) {
        switch authentication {
        case .hmacSHA256(let key): base = HMAC<SHA256>(key: SymmetricKey(data: key))
        case .none: base = nil
        }
    }

    /// Whether the last 32 bytes of `datagram` (``HeartbeatMessage/length`` bytes) are the MAC of its first 40.
    func isAuthentic(_ datagram: [UInt8]) -> Bool {
        guard var hmac = base else { return true }
        return datagram.withUnsafeBytes { bytes in
            hmac.update(data: UnsafeRawBufferPointer(rebasing: bytes[0..<HeartbeatMessage.bodyLength]))
            let code = hmac.finalize()
            // Constant time: a forger learns nothing from how long the rejection took.
            var difference: UInt8 = 0
            code.withUnsafeBytes { expected in
                for i in 0..<HeartbeatMessage.macLength { difference |= expected[i] ^ bytes[HeartbeatMessage.bodyLength + i] }
            }
            return difference == 0
        }
    }
}
