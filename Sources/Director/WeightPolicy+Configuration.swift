import LVSConfig
import LoadFeedback
import NIOCore

extension WeightPolicy {
    /// The policy lvs.cf asks for: the library's defaults, with the h2e keywords `load_hold_timeout` and
    /// `load_slow_start` applied.
    public init(_ global: GlobalSettings) {
        self.init(slowStart: .seconds(Int64(global.loadSlowStart)), holdTimeout: .seconds(Int64(global.loadHoldTimeout)))
    }
}
