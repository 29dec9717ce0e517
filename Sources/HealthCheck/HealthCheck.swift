/// One kind of health check, as a value. `HealthCheck.piranha(...)` builds one from lvs.cf's keywords.
public enum HealthCheck: Hashable, Sendable {
    /// TCP connect: the server is up when the connection is accepted.
    case connect
    /// TCP: connect, send `send` (may be empty: just read), then judge the answer against `expect`. Without an
    /// expectation the check passes once `send` is written (nanny's behaviour when `expect` is unset).
    case sendExpect(send: [UInt8], expect: AnswerExpectation?)
    /// UDP: send one datagram `send` to the server and judge the first datagram that comes back. An ICMP port
    /// unreachable fails the check at once; no answer within the timeout fails it too.
    case udp(send: [UInt8], expect: AnswerExpectation)
    /// An external program run by `/bin/sh -c`, with `%h` and `%p` replaced by the server's address and port. With
    /// an expectation its standard output is judged against it; without one, exit status 0 means up.
    case program(commandLine: String, expect: AnswerExpectation?)
}

extension HealthCheck: CustomStringConvertible {
    public var description: String {
        switch self {
        case .connect:
            "tcp connect"
        case .sendExpect(let send, let expect):
            "tcp send \"\(HealthCheckFailure.excerpt(send, limit: 80))\" expect \(expect?.description ?? "nothing")"
        case .udp(let send, let expect):
            "udp send \"\(HealthCheckFailure.excerpt(send, limit: 80))\" expect \(expect)"
        case .program(let commandLine, let expect):
            "program \"\(commandLine)\"" + (expect.map { " expect \($0)" } ?? " exit status 0")
        }
    }
}
