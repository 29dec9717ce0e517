#if canImport(Glibc)
import Glibc
#endif

/// Fetches a web server's status page over loopback HTTP/1.0 (no chunked encoding to decode), with a deadline.
///
/// Only loopback URLs are accepted: `http://127.0.0.1[:port]/path`, `http://[::1][:port]/path`,
/// `http://localhost[:port]/path`.
public struct StatusPageClient: Sendable {
    public var url: String
    public var timeout: Double

    public init(url: String, timeout: Double = 2) throws(AgentError) {
        self.url = url
        self.timeout = timeout
        _ = try Self.parse(url)
    }

    struct Target: Equatable {
        var ipv6: Bool
        var address: String
        var port: UInt16
        var path: String
        var hostHeader: String
    }

    static func parse(_ url: String) throws(AgentError) -> Target {
        let bad = AgentError.invalidArgument(
            "--status-url must be a loopback http URL such as http://127.0.0.1/server-status?auto or "
                + "http://[::1]:8080/nginx_status, not '\(url)'")
        guard url.hasPrefix("http://") else { throw bad }
        let rest = url.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let path = slash == rest.endIndex ? "/" : String(rest[slash...])
        guard !path.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" }) else { throw bad }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw bad }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw bad }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        var port: UInt16 = 80
        if let portText {
            guard let p = UInt16(portText), p > 0 else { throw bad }
            port = p
        }
        switch host {
        case "127.0.0.1", "localhost": return Target(ipv6: false, address: "127.0.0.1", port: port, path: path, hostHeader: String(authority))
        case "::1": return Target(ipv6: true, address: "::1", port: port, path: path, hostHeader: String(authority))
        default: throw bad
        }
    }

    /// The body of a 200 answer.
    public func fetch() throws(AgentError) -> String {
        let target = try Self.parse(url)
        let fd = socket(target.ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .statusPage(url: url, reason: FileIO.errnoText()) }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let rc: Int32
        if target.ipv6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = target.port.bigEndian
            inet_pton(AF_INET6, target.address, &addr.sin6_addr)
            rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = target.port.bigEndian
            inet_pton(AF_INET, target.address, &addr.sin_addr)
            rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard rc == 0 else { throw .statusPage(url: url, reason: "connect: \(FileIO.errnoText())") }
        let request = Array("GET \(target.path) HTTP/1.0\r\nHost: \(target.hostHeader)\r\nUser-Agent: h2e-agent\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw .statusPage(url: url, reason: "send: \(FileIO.errnoText())") }
            sent += n
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while response.count < 1 << 20 {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw .statusPage(url: url, reason: "no answer within \(timeout) s (\(FileIO.errnoText()))") }
            if n == 0 { break }
            response.append(contentsOf: chunk[0..<n])
        }
        return try Self.body(of: String(decoding: response, as: UTF8.self), url: url)
    }

    /// The body of an HTTP response text whose status is 200.
    static func body(of response: String, url: String) throws(AgentError) -> String {
        let bytes = Array(response.utf8)
        guard let lineEnd = bytes.firstIndex(of: UInt8(ascii: "\n")) else {
            throw .statusPage(url: url, reason: "empty or truncated answer")
        }
        let statusLine = String(decoding: bytes[..<lineEnd], as: UTF8.self)
        let status = statusLine.split(separator: " ")
        guard status.count >= 2, status[0].hasPrefix("HTTP/") else {
            throw .statusPage(url: url, reason: "not an HTTP answer")
        }
        guard status[1] == "200" else { throw .statusPage(url: url, reason: "HTTP status \(statusLine)") }
        // The head ends at the first empty line (CRLF CRLF, or bare LF LF).
        var i = lineEnd
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\n") {
                var j = i + 1
                if j < bytes.count, bytes[j] == UInt8(ascii: "\r") { j += 1 }
                if j < bytes.count, bytes[j] == UInt8(ascii: "\n") {
                    return String(decoding: bytes[(j + 1)...], as: UTF8.self)
                }
                if j >= bytes.count { break }
            }
            i += 1
        }
        return ""
    }
}
