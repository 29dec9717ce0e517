import AgentWire

/// The live load figure over the last few seconds: the `"live"` member of `GET /load.json`
/// (``LoadDocument/Live`` on the wire).
public struct LiveLoad: Sendable, Equatable {
    /// Share of the capacity used over the window (0...1) plus the saturation term (0...1): the throttled share of
    /// CFS periods under a quota, else PSI cpu `some avg10` / 100, else 0. Above 1: demand beyond capacity.
    public var figure: Double
    /// Seconds the window covers (shorter right after the agent starts; at least ``LiveWindow/minimumSpan``).
    public var window: Double
    /// `"cgroup"` or `"host"`.
    public var source: String
    /// The cgroup measured; `nil` for the host.
    public var cgroup: String?
    /// CPUs available (``CPUReading/capacity``, at the end of the window).
    public var capacity: Double
    /// CPUs used on average over the window.
    public var usage: Double
    /// Share of CFS periods throttled in the window; `nil` without a quota.
    public var throttled: Double?
    /// Time throttled in the window, microseconds; `nil` without a quota.
    public var throttledMicroseconds: UInt64?
    /// PSI cpu `some avg10` (percent) at the end of the window; `nil` without PSI.
    public var cpuPressure: Double?
    /// Requests in flight at the webserver, the mean over the window of its established connections to the service
    /// ports (`serve --port`; each request on its own connection, so keep-alive connections waiting idle count too);
    /// `nil` when not counted.
    public var inFlight: Double?

    public init(
        figure: Double, window: Double, source: String, cgroup: String?, capacity: Double, usage: Double,
        throttled: Double?, throttledMicroseconds: UInt64?, cpuPressure: Double?, inFlight: Double? = nil
    ) {
        self.figure = figure
        self.window = window
        self.source = source
        self.cgroup = cgroup
        self.capacity = capacity
        self.usage = usage
        self.throttled = throttled
        self.throttledMicroseconds = throttledMicroseconds
        self.cpuPressure = cpuPressure
        self.inFlight = inFlight
    }

    /// The `live` member of `/load.json` (``LoadDocument/Live``).
    public var wire: LoadDocument.Live {
        LoadDocument.Live(
            figure: figure, window: window, source: source, cgroup: cgroup, capacity: capacity, usage: usage,
            throttled: throttled, throttledUsec: throttledMicroseconds.map { Double($0) }, cpuPressure: cpuPressure,
            inFlight: inFlight)
    }

    /// ``wire`` as the agent writes it: figures rounded to 4 decimals, `null` when unknown.
    public var json: String { wire.json }
}
