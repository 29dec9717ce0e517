#if canImport(Glibc)
import Glibc
#endif

/// A client of BIRD's control socket (what `birdc` speaks), for the read-only commands `status` needs.
///
/// The protocol: BIRD greets with `0001 BIRD <version> ready.`; each command's reply is lines of a four-digit code
/// and `-` (more follows) or ` ` (the reply's last line), or a space and text (a continuation of the previous
/// code). Codes 8000 and up are errors. Each call connects, sends one command and reads its reply: BIRD serves the
/// socket to several clients, and a director asks only when an operator asks it.
///
/// Blocking, with a deadline on every read: call it off the cooperative pool (``BirdStatus/read(socket:)``).
public struct BirdControl: Sendable {
    /// One line of a reply: its code (the code of the line it continues, for a continuation) and text.
    public struct Line: Sendable, Hashable {
        public var code: Int
        public var text: String
    }

    public let socketPath: String
    /// How long one command may take, greeting included.
    public var timeoutMilliseconds: Int32 = 2_000

    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// Runs `command` (e.g. `show protocols`) and returns its reply's lines. Throws when BIRD cannot be reached,
    /// does not answer in time, or answers with an error code.
    public func run(_ command: String) throws(BirdControlError) -> [Line] {
        let fd = try connect()
        defer { close(fd) }
        _ = try readReply(fd)  // the greeting
        let bytes = Array((command + "\n").utf8)
        let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw .io("sending to \(socketPath)", errno) }
        let lines = try readReply(fd)
        if let error = lines.first(where: { $0.code >= 8000 }) {
            throw .refused(command: command, reply: error.text)
        }
        return lines
    }

    private func connect() throws(BirdControlError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { throw .io("socket path too long: \(socketPath)", ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.enumerated() { raw[index] = byte }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | O_CLOEXEC, 0)
        guard fd >= 0 else { throw .io("socket", errno) }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            throw .unreachable(socketPath, code)
        }
        return fd
    }

    /// Reads lines until the last line of a reply (a code followed by a space).
    private func readReply(_ fd: Int32) throws(BirdControlError) -> [Line] {
        var lines: [Line] = []
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var lastCode = 0
        while true {
            while let newline = pending.firstIndex(of: 0x0A) {
                let raw = pending[..<newline]
                pending.removeSubrange(...newline)
                let text = String(decoding: raw, as: UTF8.self)
                if let (code, final, rest) = Self.parse(text) {
                    lastCode = code
                    lines.append(Line(code: code, text: rest))
                    if final { return lines }
                } else {
                    // A continuation (leading space) of the previous code.
                    lines.append(Line(code: lastCode, text: String(text.dropFirst())))
                }
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, timeoutMilliseconds)
            guard ready > 0 else {
                if ready == 0 { throw .timedOut(socketPath) }
                if errno == EINTR { continue }
                throw .io("polling \(socketPath)", errno)
            }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else {
                if count < 0, errno == EINTR { continue }
                throw count == 0 ? .closed(socketPath) : .io("reading \(socketPath)", errno)
            }
            pending += buffer[..<count]
            guard pending.count < 4 << 20 else { throw .io("reply from \(socketPath) over 4 MiB", EMSGSIZE) }
        }
    }

    /// `CODE-text` or `CODE text`: the code, whether it is the reply's last line, and the text.
    static func parse(_ line: String) -> (Int, Bool, String)? {
        let bytes = Array(line.utf8)
        guard bytes.count >= 5, bytes[..<4].allSatisfy({ (0x30...0x39).contains($0) }),
            bytes[4] == UInt8(ascii: " ") || bytes[4] == UInt8(ascii: "-"),
            let code = Int(String(decoding: bytes[..<4], as: UTF8.self))
        else {
            return bytes.count == 4 ? Int(line).map { ($0, true, "") } : nil
        }
        return (code, bytes[4] == UInt8(ascii: " "), String(decoding: bytes[5...], as: UTF8.self))
    }
}

/// Why BIRD could not be asked.
public enum BirdControlError: Error, Sendable, Hashable, CustomStringConvertible {
    case unreachable(String, Int32)
    case timedOut(String)
    case closed(String)
    case refused(command: String, reply: String)
    case io(String, Int32)

    public var description: String {
        switch self {
        case .unreachable(let path, let code):
            "cannot reach BIRD at \(path): \(String(cString: strerror(code))) (is bird running? lvs.cf bird_socket names its control socket)"
        case .timedOut(let path): "BIRD at \(path) did not answer within 2 s"
        case .closed(let path): "BIRD at \(path) closed the connection"
        case .refused(let command, let reply): "BIRD refused '\(command)': \(reply)"
        case .io(let what, let code): "\(what): \(String(cString: strerror(code)))"
        }
    }
}
