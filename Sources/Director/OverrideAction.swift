/// What `h2e-director server ACTION VIRTUAL ADDRESS` asks for.
///
/// - `drain`, `down`: set that override (replacing any other).
/// - `up`: clears a `drain` or `down`, so health checks decide again; on a server without override it forces the
///   server in whatever its health checks say (kept until `clear`, `drain` or `down`).
/// - `clear`: removes any override.
public enum OverrideAction: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case drain, down, up, clear

    public var description: String { rawValue }
}
