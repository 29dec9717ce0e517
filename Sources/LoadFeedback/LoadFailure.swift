import NIOCore

/// Why a load reading could not be used. A closed set: every failure of every load source maps to one case, is
/// counted by ``LoadFeedbackState`` and shown to the operator with its description.
public enum LoadFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The agent could not be reached (connection refused, no route, reset, bad address).
    case unreachable(String)
    /// No complete answer within the deadline (connect included).
    case timedOut(TimeAmount)
    /// The answer was larger than the limit; the rest was not read.
    case tooLarge(limit: Int)
    /// The agent answered with an HTTP status other than 200; `detail` is what it said (its `error` field or the
    /// first line of its body, shortened).
    case httpStatus(Int, detail: String)
    /// The answer could not be understood: not JSON of the agent schema, truncated, or no number in a program's output.
    case malformed(String)
    /// The figure is not a plausible load per CPU: NaN, infinite, negative or above ``LoadReading/maximumLoad``.
    case implausible(Double)
    /// The agent says its sample is stale, or the sample is older than allowed.
    case stale(ageSeconds: Double)
    /// The answer came from another server than the one asked (`server` in the JSON).
    case wrongServer(expected: String, got: String)
    /// The load program could not be started, was killed, or exited with a non-zero status.
    case programFailed(String)

    public var description: String {
        switch self {
        case .unreachable(let why):
            return "agent unreachable (\(why)): is h2e-agent serve running and listening on the agent port?"
        case .timedOut(let limit):
            return "no complete answer within \(limit.secondsText): server or network too slow, or the deadline too short"
        case .tooLarge(let limit):
            return "answer larger than \(limit) bytes: is the load source really an h2e agent?"
        case .httpStatus(let status, let detail):
            let said = detail.isEmpty ? "" : " (\(detail))"
            return "agent answered HTTP \(status)\(said) instead of 200: check the agent, its sampling cron job and its log"
        case .malformed(let why):
            return "unreadable load answer: \(why)"
        case .implausible(let value):
            return "implausible load \(value) per CPU (expected 0...\(Int(LoadReading.maximumLoad)), or 0...10,000,000 requests in flight per CPU): check the load source"
        case .stale(let age):
            return "load sample is \(Int(age.rounded())) s old: is the agent's sampling cron job running?"
        case .wrongServer(let expected, let got):
            return "answer from server \"\(got)\" instead of \"\(expected)\": check the real server address, the agent port and its server_id"
        case .programFailed(let why):
            return "load program failed: \(why)"
        }
    }

    /// A short stable name for counters and metrics labels.
    public var kind: String {
        switch self {
        case .unreachable: return "unreachable"
        case .timedOut: return "timeout"
        case .tooLarge: return "too_large"
        case .httpStatus: return "http_status"
        case .malformed: return "malformed"
        case .implausible: return "implausible"
        case .stale: return "stale"
        case .wrongServer: return "wrong_server"
        case .programFailed: return "program_failed"
        }
    }
}

extension TimeAmount {
    /// "2 s", "0.25 s": for messages.
    var secondsText: String {
        let seconds = Double(self.nanoseconds) / 1e9
        if seconds == seconds.rounded() { return "\(Int(seconds)) s" }
        return "\((seconds * 1000).rounded() / 1000) s"
    }
}
