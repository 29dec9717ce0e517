import HealthCheck
import IPVS
import LVSConfig
import LoadFeedback
import NIOCore

/// What ``DesiredTableMapper`` reads, server by server: ``DesiredTableMapper/Inputs``' dictionaries, or a
/// ``DirectorModel``'s own state. Every lookup is by one server, virtual server or service, so mapping one service
/// costs that service's servers, not the configuration's.
public protocol DesiredTableSource {
    var configuration: LVSConfiguration { get }
    /// `.unknown` when never checked.
    func health(of id: RealServerID) -> HealthState
    /// The load-feedback weight; nil: the configured weight.
    func weight(of id: RealServerID) -> WeightDecision?
    func override(of key: OverrideKey) -> ServerOverride?
    /// The panic of a virtual server (``PanicState``), by name.
    func panic(of virtual: String) -> PanicState.Panic?
    /// Whether a server whose check timed out is within its check interval of grace
    /// (``PanicState/graced(_:health:now:)``).
    func isGraced(_ id: RealServerID) -> Bool
    /// Gives the lowest load weight of a server kept in by panic or grace.
    var policy: WeightPolicy { get }
    /// Servers removed from the configuration that drain in `service` before they are deleted.
    func retiring(in service: ServiceKey) -> [RetiringServer]
    /// The time reasons are given at.
    var now: NIODeadline { get }
}

extension DesiredTableMapper.Inputs: DesiredTableSource {
    public func health(of id: RealServerID) -> HealthState { health[id] ?? .unknown }
    public func weight(of id: RealServerID) -> WeightDecision? { weights[id] }
    public func override(of key: OverrideKey) -> ServerOverride? { overrides[key] }
    public func panic(of virtual: String) -> PanicState.Panic? { panics[virtual] }
    public func isGraced(_ id: RealServerID) -> Bool { graced.contains(id) }
    public func retiring(in service: ServiceKey) -> [RetiringServer] { retiring.filter { $0.service == service } }
}
