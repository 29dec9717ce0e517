import HealthCheck
import Heartbeat
import IPVS
import LoadFeedback

/// Something that happened to the director: an input from one of its services, or the outcome of an action the
/// executor (``DirectorCore``) ran for it. ``DirectorState/handle(_:now:)`` turns each into ``DirectorAction``s.
public enum DirectorEvent: Sendable {
    // MARK: Inputs

    /// A real server's health verdict changed (the health checks).
    case health(RealServerID, HealthState)
    /// One round of load readings for `virtual`'s servers, keyed by server name (load feedback).
    case loadRound(virtual: String, readings: [String: LoadReading])
    /// The heartbeat (or standalone mode) decided a role; `takeover` is false for a move that is no failover.
    case roleChanged(DirectorRole, reason: String, takeover: Bool)
    /// The heartbeat stopped.
    case roleStopped
    /// A new configuration that parsed and prepared without problems (SIGHUP, `reload`): applied as a diff.
    case reloaded(RuntimeConfiguration)
    /// A reload was refused; the running configuration stays and `status` shows why.
    case reloadFailed(String)
    /// `server drain|down|up|clear VIRTUAL ADDRESS`, at `wallTime` (seconds since the epoch, saved with it).
    case override(OverrideAction, virtual: String, address: String, wallTime: Double)
    /// `director drain|resume` (`scale_out`): withdraw every address from the group's routers, or announce again.
    case directorDrain(Bool)
    /// Every second: retries, the periodic kernel read, the end of a grace, draining servers' connections.
    case tick
    /// Bring the kernel to the desired table now (at start).
    case reconcile
    /// Stopping with `hard_shutdown = 1`: the configured services leave the kernel.
    case hardShutdown

    // MARK: Outcomes of actions

    /// ``DirectorAction/readKernel`` done.
    case kernelRead(Result<IPVSTable, CallFailure>)
    /// ``DirectorAction/apply(_:)`` done.
    case applied([IPVSChange], Result<Void, CallFailure>)
    /// ``DirectorAction/setTimeouts(_:)`` done.
    case timeoutsSet(IPVSTimeouts, Result<Void, CallFailure>)
    /// ``DirectorAction/setSyncDaemon(_:)`` done.
    case syncDaemonSet(SyncDaemon?, Result<Void, CallFailure>)
    /// ``DirectorAction/readConnections`` done: the table with the draining servers' connection counts.
    case connectionsRead(Result<IPVSTable, CallFailure>)
    /// ``DirectorAction/saveOverrides(_:_:)`` done: nil, or a warning (saved, but its last good copy was not).
    case overridesSaved(OverridePlan, Result<String?, CallFailure>)
}

/// A failed call of the executor's (the kernel's or the override store's), as a value: what went wrong and, for an
/// apply, the changes that went in anyway.
public struct CallFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    /// For an apply: the changes the kernel made anyway (it carries on past a refused message).
    public var appliedChanges: [IPVSChange]

    public init(_ description: String, appliedChanges: [IPVSChange] = []) {
        self.description = description
        self.appliedChanges = appliedChanges
    }
}

/// An operator's override, validated and waiting for the store to save it before it takes effect.
public struct OverridePlan: Sendable, Hashable {
    public var key: OverrideKey
    public var action: OverrideAction
    public var wallTime: Double
    /// A `clear` of an override that matches no real server of the configuration (left over from an older one).
    public var unmatched: Bool
}
