/// Which of an h2e-agent's live figures a director follows: `load_monitor = h2e` or `h2e-in-flight` in lvs.cf.
///
/// Both are read from the same `GET /load.json`; they differ in what "busy" means, so in how the weights move
/// (docs/weights.md, Signals).
public enum AgentFigure: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// `live.figure`: the share of the server's CPU capacity used over the window, plus its saturation (0...2).
    case cpu = "h2e"
    /// `live.in_flight` per CPU of `live.capacity`: connections queued or in service per CPU, which keeps growing
    /// with the queue where CPU use stops at the quota (what Prequal's requests-in-flight measure tells).
    case inFlight = "h2e-in-flight"

    /// The `load_monitor` keyword.
    public var description: String { rawValue }
}
