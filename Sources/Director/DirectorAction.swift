import Heartbeat
import IPVS
import Logging

/// What ``DirectorState/handle(_:now:)`` asks the executor (``DirectorCore``) to do. Each I/O action's outcome comes
/// back as the ``DirectorEvent`` its doc names. A reconcile pass has at most one of its calls (read, apply, setting) in
/// flight; the draining servers' connection read is the only other kernel call, a read.
public enum DirectorAction: Sendable, Equatable {
    case log(Logger.Level, String)
    /// Read the whole kernel table (→ ``DirectorEvent/kernelRead(_:)``).
    case readKernel
    /// Apply these changes, in order (→ ``DirectorEvent/applied(_:_:)``).
    case apply([IPVSChange])
    /// → ``DirectorEvent/timeoutsSet(_:_:)``.
    case setTimeouts(IPVSTimeouts)
    /// → ``DirectorEvent/syncDaemonSet(_:_:)``.
    case setSyncDaemon(SyncDaemon?)
    /// Read the kernel table for the draining servers' active connections (→ ``DirectorEvent/connectionsRead(_:)``).
    case readConnections
    /// Save the overrides, then report (→ ``DirectorEvent/overridesSaved(_:_:)``) before anything else happens: the
    /// executor saves without suspending, so no other event comes between the plan and its effect.
    case saveOverrides([OverrideKey: DirectorModel.OverrideRecord], OverridePlan)
    /// Delete these services from the kernel where they are (hard shutdown); the executor logs what it did.
    case removeServices(Set<ServiceKey>)
    /// `scale_out`: announce exactly these addresses (put them on the announce device, take the others off). Only
    /// the newest matters: an executor may skip one that a later one replaces.
    case announce([VirtualAddress])
    /// `scale_out`: remember across restarts whether the operator drained this director.
    case saveDirectorDrain(Bool)
    /// The answer to the operator's request that caused this event.
    case reply(Result<String, ControlError>)
}
