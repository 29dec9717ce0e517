import HostSystem
import LVSConfig
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The operator's overrides on disk (`STATE_DIR/overrides.json`), so they survive restarts until `up` clears them.
///
/// Written whole on every change: to a temporary file in the same directory, flushed, then renamed over the old
/// one, so a crash leaves the old or the new file, never half of one. Every successful save also refreshes
/// `overrides.json.last-good`, so a file damaged some other way (0 bytes after a full disk or a crash on a
/// filesystem without ordered writes, garbage, another version, a dangling symbolic link, a FIFO) never keeps a
/// director from starting: ``loadForStart()`` falls back to the last good copy, or to no overrides, and says so.
public struct OverrideStore: Sendable {
    public let directory: String
    public var path: String { directory + "/overrides.json" }
    /// The copy written after each successful save.
    public var lastGoodPath: String { path + ".last-good" }
    /// Where an unusable overrides.json is moved at start (kept for the operator to look at).
    public var damagedPath: String { path + ".damaged" }
    /// The version this director writes and reads.
    public static let version = 1
    /// A real file holds a few entries; anything larger is not one.
    static let maximumSize = 16 * 1024 * 1024

    public init(directory: String) {
        self.directory = directory
    }

    struct Document: Codable {
        struct Entry: Codable {
            var virtual: String
            var address: String
            var action: ServerOverride
            var setAt: Double
        }

        var version = OverrideStore.version
        var overrides: [Entry]
    }

    private struct VersionOnly: Decodable {
        var version: Int?
    }

    /// What start-up found: the overrides to start from, and what the operator must be told (empty when the file
    /// was fine or absent).
    public struct Recovery: Sendable, Hashable {
        public var overrides: [OverrideKey: DirectorModel.OverrideRecord]
        /// One sentence per problem, to log as errors and show in `status` (`director.overridesProblem`).
        public var problems: [String]
    }

    /// The saved overrides; none when the file does not exist. Throws when it exists but cannot be used.
    public func load() throws(OverrideStoreError) -> [OverrideKey: DirectorModel.OverrideRecord] {
        try Self.read(path) ?? [:]
    }

    /// The overrides to start from, whatever the state of the file: overrides.json if usable, else (it is moved to
    /// overrides.json.damaged) the last good copy, else none, with a sentence saying which and why.
    public func loadForStart() -> Recovery {
        let damage: OverrideStoreError
        do {
            return Recovery(overrides: try load(), problems: [])
        } catch {
            damage = error
        }
        var moved = ""
        if rename(path, damagedPath) == 0 { moved = " (moved to \(damagedPath))" }
        do {
            if let good = try Self.read(lastGoodPath) {
                return Recovery(
                    overrides: good,
                    problems: [
                        "\(damage)\(moved); started from the last good copy \(lastGoodPath) (\(good.count) override(s)): "
                            + "check them with `h2e-director status`"
                    ])
            }
            return Recovery(overrides: [:], problems: [
                "\(damage)\(moved); no last good copy (\(lastGoodPath) does not exist): started with NO overrides, so "
                    + "servers that were drained or down are back under their health checks: set them again with "
                    + "`h2e-director server drain|down VIRTUAL ADDRESS`"
            ])
        } catch {
            return Recovery(overrides: [:], problems: [
                "\(damage)\(moved); the last good copy is unusable too (\(error)): started with NO overrides, so "
                    + "servers that were drained or down are back under their health checks: set them again with "
                    + "`h2e-director server drain|down VIRTUAL ADDRESS`"
            ])
        }
    }

    /// The overrides in `file`; nil when there is no such file (not even a link).
    static func read(_ file: String) throws(OverrideStoreError) -> [OverrideKey: DirectorModel.OverrideRecord]? {
        var link = stat()
        if lstat(file, &link) != 0 {
            if errno == ENOENT { return nil }
            throw .unreadable(file, String(cString: strerror(errno)))
        }
        // Without blocking: a FIFO must not hang the start.
        let fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT, link.st_mode & S_IFMT == S_IFLNK {
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: file)) ?? "?"
                throw .unreadable(file, "a dangling symbolic link (to \(target), which does not exist)")
            }
            throw .unreadable(file, String(cString: strerror(code)))
        }
        defer { close(fd) }
        var information = stat()
        guard fstat(fd, &information) == 0 else { throw .unreadable(file, String(cString: strerror(errno))) }
        guard information.st_mode & S_IFMT == S_IFREG else {
            throw .unreadable(file, "it is \(LVSConfigParser.fileTypeName(information.st_mode & S_IFMT)), not a regular file")
        }
        guard information.st_size <= Self.maximumSize else {
            throw .corrupt(file, "\(information.st_size) bytes, more than \(Self.maximumSize >> 20) MiB")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while bytes.count <= Self.maximumSize {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadable(file, String(cString: strerror(errno)))
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        guard !bytes.isEmpty else {
            throw .corrupt(file, "it is empty (0 bytes: a full disk or a crash while it was written?)")
        }
        let data = Data(bytes)
        let version: Int?
        do {
            version = try JSONDecoder().decode(VersionOnly.self, from: data).version
        } catch {
            throw .corrupt(file, "not JSON: \(error)")
        }
        guard version == Self.version else {
            throw .corrupt(
                file, version.map { "version \($0); this h2e-director reads version \(Self.version)" } ?? "no version")
        }
        do {
            let document = try JSONDecoder().decode(Document.self, from: data)
            var result: [OverrideKey: DirectorModel.OverrideRecord] = [:]
            for entry in document.overrides {
                result[OverrideKey(virtual: entry.virtual, address: entry.address)] = .init(
                    action: entry.action, setAt: entry.setAt)
            }
            return result
        } catch {
            throw .corrupt(file, "\(error)")
        }
    }

    /// Replaces the file with `overrides`, then the last good copy. Throws when overrides.json could not be
    /// replaced (the caller must then not apply the change); a failed last good copy only comes back as a
    /// message (the change is saved).
    @discardableResult
    public func save(_ overrides: [OverrideKey: DirectorModel.OverrideRecord]) throws(OverrideStoreError) -> String? {
        let document = Document(
            overrides: overrides.sorted { $0.key < $1.key }.map {
                .init(virtual: $0.key.virtual, address: $0.key.address, action: $0.value.action, setAt: $0.value.setAt)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let bytes: [UInt8]
        do {
            bytes = Array(try encoder.encode(document)) + [0x0A]
        } catch {
            throw .unwritable(path, "\(error)")
        }
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw .unwritable(directory, String(cString: strerror(errno)))
        }
        try Self.replace(path, with: bytes)
        do {
            try Self.replace(lastGoodPath, with: bytes)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// `scale_out`: the file whose presence says the operator drained this director (`director drain`).
    public var directorDrainedPath: String { directory + "/director-drained" }

    /// Whether the operator drained this director before it stopped (a drained director starts drained).
    public func loadDirectorDrained() -> Bool {
        access(directorDrainedPath, F_OK) == 0
    }

    /// Records `drained` across restarts: the file exists while the director is drained.
    public func saveDirectorDrained(_ drained: Bool) throws(OverrideStoreError) {
        if drained {
            if mkdir(directory, 0o755) != 0 && errno != EEXIST {
                throw .unwritable(directory, String(cString: strerror(errno)))
            }
            try Self.replace(directorDrainedPath, with: Array("drained: `h2e-director director resume` undoes it\n".utf8))
        } else if unlink(directorDrainedPath) != 0 && errno != ENOENT {
            throw .unwritable(directorDrainedPath, String(cString: strerror(errno)))
        }
    }

    /// Writes `bytes` to `file` through a synced temporary file and a rename (``AtomicFile``).
    private static func replace(_ file: String, with bytes: [UInt8]) throws(OverrideStoreError) {
        do {
            try AtomicFile.write(bytes, to: file, mode: 0o600)
        } catch {
            throw .unwritable(error.path, "\(error.reason) (\(error.operation))")
        }
    }
}

/// Why the overrides file could not be used.
public enum OverrideStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    case unreadable(String, String)
    case corrupt(String, String)
    case unwritable(String, String)

    public var description: String {
        switch self {
        case .unreadable(let path, let why): "cannot read \(path): \(why)"
        case .corrupt(let path, let why): "\(path) is not a usable overrides file: \(why)"
        case .unwritable(let path, let why):
            "cannot write \(path): \(why): the override was NOT applied (nothing changed); make the state directory "
                + "writable (--state-dir) and repeat the command"
        }
    }
}
