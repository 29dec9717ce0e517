#if canImport(Glibc)
import Glibc
#endif

/// Why the heartbeat authentication could not be set up. Each message says what to do.
public enum HeartbeatKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    case noKey
    case keyWithoutAuthentication(String)
    case unknownAuthentication(String)
    case unreadable(String, errno: Int32)
    case tooOpen(String, mode: UInt32)
    case tooShort(String, length: Int)

    public var description: String {
        switch self {
        case .noKey:
            "heartbeats are not authenticated: set heartbeat_key = FILE (a secret of at least "
                + "\(HeartbeatAuthentication.minimumKeyLength) bytes, the same on both directors), "
                + "or heartbeat_auth = none to run without authentication"
        case .keyWithoutAuthentication(let path):
            "heartbeat_auth = none contradicts heartbeat_key = \(path): remove one of them"
        case .unknownAuthentication(let value):
            "heartbeat_auth = \(value) is unknown: use hmac-sha256 (the default) or none"
        case .unreadable(let path, let code):
            "cannot read heartbeat key file \(path): \(String(cString: strerror(code)))"
        case .tooOpen(let path, let mode):
            "heartbeat key file \(path) has mode \(String(mode, radix: 8)): make it readable by its owner only "
                + "(chmod 600 \(path))"
        case .tooShort(let path, let length):
            "heartbeat key file \(path) holds \(length) bytes: use at least "
                + "\(HeartbeatAuthentication.minimumKeyLength) (e.g. head -c 32 /dev/urandom | base64 > \(path))"
        }
    }
}
