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
/// one, so a crash leaves the old or the new file, never half of one.
public struct OverrideStore: Sendable {
    public let directory: String
    public var path: String { directory + "/overrides.json" }

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

        var version = 1
        var overrides: [Entry]
    }

    /// The saved overrides; none when the file does not exist.
    public func load() throws(OverrideStoreError) -> [OverrideKey: DirectorModel.OverrideRecord] {
        guard access(path, F_OK) == 0 else { return [:] }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path, "\(error)")
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
            throw .corrupt(path, "\(error)")
        }
    }

    /// Replaces the file with `overrides`.
    public func save(_ overrides: [OverrideKey: DirectorModel.OverrideRecord]) throws(OverrideStoreError) {
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
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .unwritable(temporary, String(cString: strerror(errno))) }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let message = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw .unwritable(temporary, message)
            }
            written += n
        }
        fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            throw .unwritable(path, message)
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
        case .corrupt(let path, let why):
            "\(path) is not an overrides file (\(why)): fix or remove it (it only holds drain/down/up overrides)"
        case .unwritable(let path, let why):
            "cannot write \(path): \(why): the override holds until the daemon restarts; fix the state directory"
        }
    }
}
