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

    /// Reads and parses the file at `path`, and the `site_addresses` files it names: the module's only I/O. Diagnostics name the file as `path`; a file
    /// that cannot be read, or is larger than `maximumFileSize`, gives one error.
    public static func parseFile(atPath path: String) -> LVSConfigParseResult {
        switch readFile(atPath: path, limit: maximumFileSize) {
        case .success(let bytes):
            return loadSiteAddressFiles(parse(bytes: bytes, file: path), configPath: path)
        case .failure(let failure):
            return LVSConfigParseResult(
                configuration: nil,
                diagnostics: [
                    LVSDiagnostic(severity: .error, file: path, line: nil, column: nil, message: failure.description)
                ])
        }
    }

    /// Parses `text` as the lvs.cf at `path` would be, with the site files of `siteFiles` (by resolved path) in
    /// place of those on disk: how `h2e-director cluster` checks an edit before it writes anything.
    public static func parse(_ text: String, asFileAt path: String, siteFiles: [String: String]) -> LVSConfigParseResult {
        loadSiteAddressFiles(parse(bytes: Array(text.utf8), file: path), configPath: path) { site in
            if let text = siteFiles[site] { return .success(Array(text.utf8)) }
            return readFile(atPath: site, limit: maximumFileSize)
        }
    }

    /// At most `limit + 1` bytes of the file (one more than allowed, so an oversized file is recognised). Only a
    /// regular file is read: opened without blocking (a FIFO would wait for a writer for ever, and with it the
    /// reload service), then checked with fstat before any read, so a FIFO, device or directory is refused.
    /// The bytes of the regular file at `path`, at most ``maximumFileSize`` + 1 (so an oversized file is
    /// recognised); nil when it cannot be read or is not a regular file. lvs.cf and its site files are read so.
    public static func readBytes(atPath path: String) -> [UInt8]? {
        try? readFile(atPath: path, limit: maximumFileSize).get()
    }

    private static func readFile(atPath path: String, limit: Int) -> Result<[UInt8], ReadFailureMessage> {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { return .failure(ReadFailureMessage("cannot open: \(errnoText())")) }
        defer { close(fd) }
        var information = stat()
        guard fstat(fd, &information) == 0 else { return .failure(ReadFailureMessage("cannot stat: \(errnoText())")) }
        let type = information.st_mode & S_IFMT
        guard type == S_IFREG else {
            return .failure(ReadFailureMessage("is \(fileTypeName(type)), not a regular file: lvs.cf must be a regular file"))
        }
        // A regular file never blocks: O_NONBLOCK is harmless from here on.
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

    /// `a FIFO`, `a directory`... for messages (also the director's, about its other files).
    public static func fileTypeName(_ type: mode_t) -> String {
        switch type {
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFDIR: "a directory"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symbolic link"
        default: "not a regular file"
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// Why a file could not be read, as a diagnostic message.
struct ReadFailureMessage: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension LVSConfigParser {
    /// The resolved path of the virtual's `site_addresses` file (a relative one is relative to the directory of
    /// lvs.cf at `configPath`); nil without one.
    public static func siteFilePath(_ virtual: VirtualServer, configPath: String) -> String? {
        guard let named = virtual.siteAddressFile else { return nil }
        if named.hasPrefix("/") { return named }
        let directory = configPath.contains("/") ? String(configPath[..<configPath.lastIndex(of: "/")!]) : "."
        return "\(directory.isEmpty ? "/" : directory)/\(named)"
    }

    /// Reads the `site_addresses` file of every virtual server of `result` into its ``VirtualServer/fileSiteAddresses``:
    /// the addresses of the virtual's family (a file may list both; a virtual of the other family with the same
    /// fwmark takes the others). A file that cannot be read or has a bad line is an error naming it.
    static func loadSiteAddressFiles(
        _ result: LVSConfigParseResult, configPath: String,
        read: (String) -> Result<[UInt8], ReadFailureMessage> = { readFile(atPath: $0, limit: maximumFileSize) }
    ) -> LVSConfigParseResult {
        guard var configuration = result.configuration else { return result }
        var diagnostics = result.diagnostics
        for index in configuration.virtualServers.indices {
            let virtual = configuration.virtualServers[index]
            guard let named = virtual.siteAddressFile, let path = siteFilePath(virtual, configPath: configPath) else {
                continue
            }
            switch read(path) {
            case .failure(let failure):
                diagnostics.append(
                    LVSDiagnostic(
                        severity: .error, file: path, line: nil, column: nil,
                        message: "\(failure) (the site_addresses of virtual '\(virtual.name)' in \(configPath))"))
            case .success(let bytes) where bytes.count > maximumFileSize:
                diagnostics.append(
                    LVSDiagnostic(
                        severity: .error, file: path, line: nil, column: nil,
                        message: "larger than \(maximumFileSize) bytes (the site_addresses of virtual '\(virtual.name)')"))
            case .success(let bytes):
                let list = SiteAddressList.parse(bytes, file: path)
                diagnostics += list.diagnostics
                configuration.virtualServers[index].fileSiteAddresses = list.addresses.filter { $0.family == virtual.family }
                let others = list.addresses.filter { $0.family != virtual.family }
                let taken = configuration.virtualServers.contains {
                    $0.active && $0.firewallMark == virtual.firewallMark && $0.family != virtual.family
                        && $0.siteAddressFile == named
                }
                if virtual.active, let first = others.first, !taken {
                    diagnostics.append(
                        LVSDiagnostic(
                            severity: .warning, file: path, line: nil, column: nil,
                            message: "\(others.count) \(first.family) addresses (\(first)...) are not used: virtual "
                                + "'\(virtual.name)' is \(virtual.family); add a virtual with the same fwmark, "
                                + "\(first.family) servers and this site_addresses file"))
                }
            }
        }
        let failed = diagnostics.contains { $0.severity == .error }
        return LVSConfigParseResult(configuration: failed ? nil : configuration, diagnostics: diagnostics)
    }
}
