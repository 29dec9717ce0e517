/// Why one health check failed. The description completes nanny's log line
/// `[inactive] shutting down 10.0.0.2:80 due to <description>`.
public enum HealthCheckFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// Connecting (or sending) failed: refused, unreachable, reset. The detail is the system's message.
    case connectionFailed(String)
    /// No verdict within the check's timeout (connect, send, and the awaited answer together).
    case timeout
    /// The server closed the connection before an answer that matched `expect` arrived.
    case closedBeforeAnswer(received: String)
    /// The answer does not match `expect`. The excerpt shows its first bytes, escaped.
    case unexpectedAnswer(String)
    /// `send_program` exited with a non-zero status (and no `expect` was configured).
    case programFailed(exitStatus: Int32)
    /// `send_program` was killed by a signal.
    case programKilled(signal: Int32)
    /// `send_program` could not be started.
    case programNotStarted(String)

    public var description: String {
        switch self {
        case .connectionFailed(let detail): "connection failure (\(detail))"
        case .timeout: "timeout"
        case .closedBeforeAnswer(let received):
            received.isEmpty ? "connection closed without an answer" : "connection closed after \"\(received)\""
        case .unexpectedAnswer(let excerpt): "unexpected answer \"\(excerpt)\""
        case .programFailed(let status): "send_program exit status \(status)"
        case .programKilled(let signal): "send_program killed by signal \(signal)"
        case .programNotStarted(let detail): "send_program could not start (\(detail))"
        }
    }

    /// The first bytes of an answer, printable ASCII kept and the rest escaped, for log lines.
    static func excerpt(_ bytes: some Collection<UInt8>, limit: Int = 40) -> String {
        var out = ""
        for byte in bytes.prefix(limit) {
            switch byte {
            case 0x0D: out += "\\r"
            case 0x0A: out += "\\n"
            case 0x09: out += "\\t"
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x20...0x7E: out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        if bytes.count > limit { out += "..." }
        return out
    }
}
