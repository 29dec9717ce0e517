/// Whether this director owns the virtual addresses.
public enum DirectorRole: Sendable, Hashable, CustomStringConvertible {
    case backup
    case active

    public var description: String { self == .active ? "active" : "backup" }
}
