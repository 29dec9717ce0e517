import NIOCore

/// What a load figure measures, which decides how fast the weight policy may follow it
/// (``WeightPolicy/adapted(to:)``), what counts as idle and what as garbage.
public enum LoadSignal: Sendable, Hashable, CustomStringConvertible {
    /// The 1-minute load average per CPU, sampled once a minute: an old agent's `load`, a `load_monitor` program.
    /// It lags by about a minute, so the policy moves slowly (τ 240 s).
    case loadAverage
    /// The agent's live figure (`/load.json` `live.figure`): the share of the server's CPU capacity used over the
    /// last `window`, plus a saturation term (0...2), computed when asked and read at receive time. The policy
    /// takes its time constant from the window.
    case live(window: TimeAmount)
    /// The agent's requests in flight per CPU (`live.in_flight / live.capacity`, `load_monitor = h2e-in-flight`):
    /// the mean over `window` of the connections queued or in service, per CPU of capacity. Where requests cost
    /// about the same everywhere it is proportional to the time a new request waits, and it keeps growing past
    /// the point where CPU use stops at the quota. Followed as fast as ``live(window:)``.
    case inFlight(window: TimeAmount)

    /// The window a live figure averages over; nil for the load average.
    public var window: TimeAmount? {
        switch self {
        case .loadAverage: nil
        case .live(let window), .inFlight(let window): window
        }
    }

    /// Whether the figure is computed when asked (the agent's live window), not a minute-old sample.
    public var isLive: Bool { window != nil }

    /// Figures above this are garbage, not a very busy server: 1000 per CPU for loads; for requests in flight per
    /// CPU, ten million (100,000 connections on a hundredth of a CPU).
    public var maximumLoad: Double {
        switch self {
        case .loadAverage, .live: 1000
        case .inFlight: 10_000_000
        }
    }

    /// `loadavg`, `live 10 s`, `in-flight 10 s`: for status and reasons.
    public var description: String {
        switch self {
        case .loadAverage: return "loadavg"
        case .live(let window): return "live \(window.secondsText)"
        case .inFlight(let window): return "in-flight \(window.secondsText)"
        }
    }
}
