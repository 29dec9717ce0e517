import HostSystem
import LVSConfig

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One `h2e-director cluster ...` change to lvs.cf, made safely: under an exclusive lock (`FILE.lock`; a second
/// edit at the same time is refused, never merged), on the file as it is (which must be valid), validated as
/// `check-config` would before anything is written, refused when the file changed while it was being edited
/// (someone's editor), then written atomically (the site file first, then lvs.cf). ``undo()`` puts back what it
/// replaced, for a daemon that refuses the result.
public final class ClusterEditTransaction {
    public let path: String
    public let outcome: LVSConfigEditor.Outcome
    /// The warnings of the edited file, as check-config prints them.
    public let warnings: [String]
    private let originals: [(path: String, bytes: [UInt8])]
    private let lock: CInt

    /// Why a cluster edit was not made; nothing was written.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Locks, reads, edits and validates; writes nothing yet (``commit()``).
    public init(_ edit: LVSConfigEdit, path: String) throws(Refusal) {
        self.path = path
        let lockPath = path + ".lock"
        let fd = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Refusal("cannot open the lock file \(lockPath): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw Refusal("another cluster edit of \(path) is in progress (it holds \(lockPath)); nothing written: try again when it is done")
        }
        let current = LVSConfigParser.parseFile(atPath: path)
        guard let configuration = current.configuration, let text = Self.read(path) else {
            close(fd)
            throw Refusal(
                "\(path) has errors now; fix them first (nothing written):\n"
                    + current.errors.map(\.description).joined(separator: "\n"))
        }
        let outcome: LVSConfigEditor.Outcome
        do {
            outcome = try LVSConfigEditor.apply(edit, to: String(decoding: text, as: UTF8.self), configuration: configuration, file: path) { site in
                guard let bytes = Self.read(site) else { throw Refusal("cannot read it") }
                return String(decoding: bytes, as: UTF8.self)
            }
        } catch {
            close(fd)
            throw Refusal("\(error)")
        }
        var siteFiles: [String: String] = [:]
        if let site = outcome.siteFile { siteFiles[site.path] = site.text }
        let checked = LVSConfigParser.parse(outcome.text, asFileAt: path, siteFiles: siteFiles)
        guard checked.configuration != nil else {
            close(fd)
            throw Refusal(
                "the edited file would not be valid, so nothing was written:\n"
                    + checked.errors.map(\.description).joined(separator: "\n"))
        }
        var originals = [(path, text)]
        if let site = outcome.siteFile { originals.append((site.path, Self.read(site.path) ?? [])) }
        self.originals = originals
        self.lock = fd
        self.outcome = outcome
        self.warnings = checked.warnings.map(\.description)
    }

    deinit { close(lock) }

    /// Writes the edited file(s), unless one changed since it was read.
    public func commit() throws(Refusal) {
        for original in originals where (Self.read(original.path) ?? []) != original.bytes {
            throw Refusal("\(original.path) changed while this edit was being made (another editor?); nothing written: run it again")
        }
        do {
            if let site = outcome.siteFile { try AtomicFile.write(Array(site.text.utf8), to: site.path, mode: Self.mode(site.path)) }
            try AtomicFile.write(Array(outcome.text.utf8), to: path, mode: Self.mode(path))
        } catch {
            throw Refusal("\(error)")
        }
    }

    /// Puts back the files as they were before ``commit()``.
    public func undo() throws(Refusal) {
        do {
            for original in originals.reversed() {
                try AtomicFile.write(original.bytes, to: original.path, mode: Self.mode(original.path))
            }
        } catch {
            throw Refusal("\(error)")
        }
    }

    private static func read(_ path: String) -> [UInt8]? { LVSConfigParser.readBytes(atPath: path) }

    private static func mode(_ path: String) -> mode_t {
        var information = stat()
        return stat(path, &information) == 0 ? information.st_mode & 0o7777 : 0o644
    }
}
