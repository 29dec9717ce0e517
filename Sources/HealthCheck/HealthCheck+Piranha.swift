extension HealthCheck {
    /// The transport protocol of the virtual server (lvs.cf `protocol`).
    public enum TransportProtocol: String, Hashable, Sendable {
        case tcp
        case udp
    }

    /// nanny's request when neither `send` nor `expect` is configured and the port is 80.
    public static let defaultHTTPRequest = "GET / HTTP/1.0\r\n\r\n"
    /// nanny's expectation for `defaultHTTPRequest`.
    public static let defaultHTTPExpect = "HTTP"

    /// The check Piranha's nanny runs for a virtual server's keywords.
    ///
    /// - `send_program` set: run it (`%h`/`%p` substituted); with `expect` its output is judged, else its exit status.
    /// - `protocol = udp`: send `send` (or an empty datagram) and judge the first answer against `expect` (any
    ///   answer when unset).
    /// - neither `send` nor `expect`: port 80 gets `GET / HTTP/1.0\r\n\r\n` expecting `HTTP`; other ports a plain
    ///   TCP connect.
    /// - otherwise: TCP send/expect. `expect = "*"` accepts any answer; `use_regex` makes `expect` a POSIX
    ///   extended regular expression; else the answer's first strlen(expect) bytes must equal it.
    ///
    /// `send` and `expect` are taken as written in lvs.cf: the escapes `\r`, `\n`, `\t`, `\\`, `\"` and `\0` are
    /// decoded (nanny's command line carries them the same way). An empty string counts as unset.
    ///
    /// - Throws: `HealthCheckConfigurationError` for a bad regex or an empty program.
    public static func piranha(
        protocol transport: TransportProtocol = .tcp,
        port: Int,
        send: String? = nil,
        expect: String? = nil,
        useRegex: Bool = false,
        sendProgram: String? = nil
    ) throws(HealthCheckConfigurationError) -> HealthCheck {
        let send = send.flatMap { $0.isEmpty ? nil : unescape($0) }
        let expectation: AnswerExpectation? = try expect.flatMap { (text: String) throws(HealthCheckConfigurationError) in
            if text.isEmpty { return nil }
            // A regex keeps its backslashes: they belong to the pattern.
            if useRegex && text != "*" { return try AnswerExpectation.regex(text) }
            if text == "*" { return .anything }
            return .prefix(unescape(text))
        }
        if let sendProgram {
            guard !sendProgram.allSatisfy({ $0 == " " || $0 == "\t" }) else { throw .emptyProgram }
            return .program(commandLine: sendProgram, expect: expectation)
        }
        switch transport {
        case .udp:
            return .udp(send: send ?? [], expect: expectation ?? .anything)
        case .tcp:
            if send == nil && expectation == nil {
                return port == 80
                    ? .sendExpect(send: Array(defaultHTTPRequest.utf8), expect: .prefix(defaultHTTPExpect))
                    : .connect
            }
            return .sendExpect(send: send ?? [], expect: expectation)
        }
    }

    /// Decodes the backslash escapes lvs.cf strings carry (`\r`, `\n`, `\t`, `\\`, `\"`, `\0`); any other
    /// backslash is kept as written.
    public static func unescape(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var escaped = false
        for byte in text.utf8 {
            if escaped {
                escaped = false
                switch byte {
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "0"): out.append(0x00)
                case UInt8(ascii: "\\"), UInt8(ascii: "\""): out.append(byte)
                default: out.append(contentsOf: [UInt8(ascii: "\\"), byte])
                }
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else {
                out.append(byte)
            }
        }
        if escaped { out.append(UInt8(ascii: "\\")) }
        return out
    }

    /// `commandLine` with `%h` replaced by the host and `%p` by the port.
    static func substitute(_ commandLine: String, endpoint: HealthEndpoint) -> String {
        commandLine
            .replacing("%h", with: endpoint.host)
            .replacing("%p", with: String(endpoint.port))
    }
}
