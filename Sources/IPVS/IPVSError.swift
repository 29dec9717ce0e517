#if canImport(Glibc)
import Glibc
#endif

/// What went wrong talking to the kernel's IPVS, in words an operator can act on.
public enum IPVSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kernel has no IPVS generic-netlink family: the module is not loaded (or not built).
    case notAvailable
    /// The kernel refused: IPVS needs CAP_NET_ADMIN.
    case permissionDenied(operation: String)
    case serviceExists(ServiceKey)
    case noSuchService(ServiceKey)
    case destinationExists(ServiceKey, Destination.ID)
    case noSuchDestination(ServiceKey, Destination.ID)
    /// The kernel has no module for this scheduler.
    case schedulerUnavailable(Scheduler)
    /// h2e refused a value before sending it (e.g. weight out of range).
    case invalid(String)
    /// Any other kernel or netlink error: the operation, errno (or libnl code) and its text.
    case netlink(operation: String, code: Int32, message: String)

    public var description: String {
        switch self {
        case .notAvailable:
            "the kernel has no IPVS: load it with `modprobe ip_vs` (and the scheduler modules, e.g. ip_vs_lblc)"
        case .permissionDenied(let operation):
            "\(operation): permission denied: IPVS needs CAP_NET_ADMIN (run as root or grant the capability)"
        case .serviceExists(let key): "service \(key) already exists"
        case .noSuchService(let key): "no such service: \(key)"
        case .destinationExists(let key, let dest): "destination \(dest) already exists in service \(key)"
        case .noSuchDestination(let key, let dest): "no such destination: \(dest) in service \(key)"
        case .schedulerUnavailable(let scheduler):
            scheduler.isKnown
                ? "scheduler \(scheduler) is not available in this kernel: load it with `modprobe \(scheduler.kernelModule)`"
                : "unknown scheduler \(scheduler): use one of \(Scheduler.known.map(\.rawValue).joined(separator: " "))"
        case .invalid(let message): message
        case .netlink(let operation, let code, let message): "\(operation): \(message) (\(code))"
        }
    }

    /// Maps a kernel errno from an IPVS command to the error an operator understands.
    static func fromKernel(errno code: Int32, operation: IPVSOperation) -> IPVSError {
        switch (code, operation) {
        case (EPERM, _), (EACCES, _): return .permissionDenied(operation: operation.description)
        case (EEXIST, .addService(let key, _)): return .serviceExists(key)
        case (EEXIST, .addDestination(let key, let dest)): return .destinationExists(key, dest)
        case (ESRCH, .addService(let key, _)), (ESRCH, .updateService(let key, _)), (ESRCH, .deleteService(let key)),
            (ESRCH, .addDestination(let key, _)), (ESRCH, .updateDestination(let key, _)),
            (ESRCH, .deleteDestination(let key, _)), (ESRCH, .listDestinations(let key)), (ESRCH, .zero(let key?)):
            return .noSuchService(key)
        case (ENOENT, .addService), (ENOENT, .updateService):
            if let scheduler = operation.scheduler { return .schedulerUnavailable(scheduler) }
        case (ENOENT, .updateDestination(let key, let dest)), (ENOENT, .deleteDestination(let key, let dest)):
            return .noSuchDestination(key, dest)
        default: break
        }
        return .netlink(operation: operation.description, code: code, message: String(cString: strerror(code)))
    }
}

/// The IPVS command an error belongs to, so that an errno can be named precisely.
enum IPVSOperation: CustomStringConvertible {
    case addService(ServiceKey, Scheduler? = nil)
    case updateService(ServiceKey, Scheduler? = nil)
    case deleteService(ServiceKey)
    case addDestination(ServiceKey, Destination.ID)
    case updateDestination(ServiceKey, Destination.ID)
    case deleteDestination(ServiceKey, Destination.ID)
    case listServices
    case listDestinations(ServiceKey)
    case info, getTimeouts, setTimeouts, flush, startDaemon, stopDaemon, listDaemons
    case zero(ServiceKey?)

    var scheduler: Scheduler? {
        switch self {
        case .addService(_, let s), .updateService(_, let s): s
        default: nil
        }
    }

    var description: String {
        switch self {
        case .addService(let key, _): "add service \(key)"
        case .updateService(let key, _): "edit service \(key)"
        case .deleteService(let key): "delete service \(key)"
        case .addDestination(let key, let dest): "add destination \(dest) to \(key)"
        case .updateDestination(let key, let dest): "edit destination \(dest) of \(key)"
        case .deleteDestination(let key, let dest): "delete destination \(dest) from \(key)"
        case .listServices: "list services"
        case .listDestinations(let key): "list destinations of \(key)"
        case .info: "get IPVS info"
        case .getTimeouts: "get timeouts"
        case .setTimeouts: "set timeouts"
        case .flush: "flush the IPVS table"
        case .startDaemon: "start sync daemon"
        case .stopDaemon: "stop sync daemon"
        case .listDaemons: "list sync daemons"
        case .zero(let key): key.map { "zero counters of \($0)" } ?? "zero all counters"
        }
    }
}
