import NIOCore

/// What a load figure measures, which decides how fast the weight policy may follow it
/// (``WeightPolicy/adapted(to:)``).
public enum LoadSignal: Sendable, Hashable, CustomStringConvertible {
    /// The 1-minute load average per CPU, sampled once a minute: an old agent's `load`, a `load_monitor` program.
    /// It lags by about a minute, so the policy moves slowly (τ 240 s).
    case loadAverage
    /// The agent's live figure (`/load.json` `live.figure`): the share of the server's CPU capacity used over the
    /// last `window`, plus a saturation term (0...2), computed when asked and read at receive time. The policy
    /// takes its time constant from the window.
    case live(window: TimeAmount)

    public var isLive: Bool {
        if case .live = self { return true }
        return false
    }

    /// `loadavg`, `live 10 s`: for status and reasons.
    public var description: String {
        switch self {
        case .loadAverage: return "loadavg"
        case .live(let window): return "live \(window.secondsText)"
        }
    }
}
