/// A host (an address or a name) and a port, in the text form socket addresses take: `10.0.0.2:80`,
/// `[2001:db8::1]:80`. The one place h2e writes and reads that form: log lines, status, `--metrics`, `--listen`,
/// agent endpoints, ipvsadm's listing.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` or `[IPV6]:PORT`; nil without a port, with a port outside 0...65535, an empty host, or
    /// an IPv6 address without its brackets.
    public init?(parsing text: some StringProtocol) {
        let text = Substring(text)
        let host: Substring
        let port: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            port = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, port.allSatisfy(\.isASCII), let number = Int(port), (0...65535).contains(number) else {
            return nil
        }
        self.init(host: String(host), port: number)
    }

    /// Brackets around a host with a colon in it (an IPv6 address), as URLs and ipvsadm write it.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
