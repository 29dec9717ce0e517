import IPVS
import LVSConfig
import LoadFeedback
import NIOCore

extension WeightPolicy {
    /// The policy lvs.cf asks for: the library's defaults, with the h2e keywords `load_hold_timeout` and
    /// `load_slow_start` applied, and weights within IPVS's (``Destination/weights``).
    public init(_ global: GlobalSettings) {
        self.init(
            maximumWeight: Destination.weights.upperBound, slowStart: .seconds(Int64(global.loadSlowStart)),
            holdTimeout: .seconds(Int64(global.loadHoldTimeout)))
    }
}
