#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension LVSConfigParser {
    /// The default lvs.cf location, as Piranha's.
    public static let defaultPath = "/etc/sysconfig/ha/lvs.cf"

    /// Reads and parses the file at `path`: the module's only I/O. Diagnostics name the file as `path`; a file
    /// that cannot be read, or is larger than `maximumFileSize`, gives one error.
    public static func parseFile(atPath path: String) -> LVSConfigParseResult {
        switch readFile(atPath: path, limit: maximumFileSize) {
        case .success(let bytes):
            return parse(bytes: bytes, file: path)
        case .failure(let failure):
            return LVSConfigParseResult(
                configuration: nil,
                diagnostics: [
                    LVSDiagnostic(severity: .error, file: path, line: nil, column: nil, message: failure.description)
                ])
        }
    }

    /// At most `limit + 1` bytes of the file (one more than allowed, so an oversized file is recognised).
    private static func readFile(atPath path: String, limit: Int) -> Result<[UInt8], ReadFailureMessage> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(ReadFailureMessage("cannot open: \(errnoText())")) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while bytes.count <= limit {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(ReadFailureMessage("cannot read: \(errnoText())"))
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return .success(bytes)
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// Why a file could not be read, as a diagnostic message.
struct ReadFailureMessage: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
