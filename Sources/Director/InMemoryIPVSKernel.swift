import IPVS

/// An IPVS table in memory that answers like the kernel (the same `IPVSError`s for a duplicate or missing service
/// or destination), with failures that tests switch on. Used by the tests and by `run --ipvs memory` on machines
/// whose kernel has no IPVS.
public actor InMemoryIPVSKernel: IPVSKernel {
    public private(set) var current: IPVSTable
    /// Every change applied, in order.
    public private(set) var log: [IPVSChange] = []
    /// Every netlink-level call (reads and changes), to check that an idle loop makes none.
    public private(set) var calls = 0
    /// When set, every call fails with it.
    public var failure: IPVSError?

    public init(table: IPVSTable = IPVSTable()) {
        self.current = table
    }

    public private(set) var timeouts = IPVSTimeouts(tcp: 900, tcpFin: 120, udp: 300)
    public private(set) var syncDaemon: SyncDaemon?

    /// When set, every read and apply waits this long first (a slow kernel, for tests of concurrent inputs).
    public private(set) var delay: Duration?

    public func setFailure(_ failure: IPVSError?) { self.failure = failure }

    public func setDelay(_ delay: Duration?) { self.delay = delay }

    public func setTimeouts(_ timeouts: IPVSTimeouts) throws {
        calls += 1
        if let failure { throw failure }
        self.timeouts = IPVSTimeouts(
            tcp: timeouts.tcp == 0 ? self.timeouts.tcp : timeouts.tcp,
            tcpFin: timeouts.tcpFin == 0 ? self.timeouts.tcpFin : timeouts.tcpFin,
            udp: timeouts.udp == 0 ? self.timeouts.udp : timeouts.udp)
    }

    public func setSyncDaemon(_ daemon: SyncDaemon?) throws {
        calls += 1
        if let failure { throw failure }
        syncDaemon = daemon
    }

    public func setTable(_ table: IPVSTable) { current = table }

    public func table() async throws -> IPVSTable {
        if let delay { try await Task.sleep(for: delay) }
        calls += 1
        if let failure { throw failure }
        return current
    }

    public func apply(_ changes: [IPVSChange]) async throws {
        if let delay { try await Task.sleep(for: delay) }
        for (index, change) in changes.enumerated() {
            calls += 1
            do {
                if let failure { throw failure }
                try perform(change)
            } catch let error as IPVSError {
                throw IPVSApplyError(change: change, underlying: error, appliedChanges: Array(changes.prefix(index)))
            }
            log.append(change)
        }
    }

    private func perform(_ change: IPVSChange) throws(IPVSError) {
        switch change {
        case .addService(let service):
            guard current[service.key] == nil else { throw .serviceExists(service.key) }
            var bare = service
            bare.destinations = []
            current.services.append(bare)
        case .updateService(let service):
            let index = try serviceIndex(service.key)
            let destinations = current.services[index].destinations
            current.services[index] = service
            current.services[index].destinations = destinations
        case .deleteService(let key):
            current.services.remove(at: try serviceIndex(key))
        case .addDestination(let key, let destination):
            let index = try serviceIndex(key)
            guard !current.services[index].destinations.contains(where: { $0.id == destination.id }) else {
                throw .destinationExists(key, destination.id)
            }
            current.services[index].destinations.append(destination)
        case .updateDestination(let key, let destination, _):
            let index = try serviceIndex(key)
            guard let d = current.services[index].destinations.firstIndex(where: { $0.id == destination.id }) else {
                throw .noSuchDestination(key, destination.id)
            }
            current.services[index].destinations[d] = destination
        case .deleteDestination(let key, let id):
            let index = try serviceIndex(key)
            guard let d = current.services[index].destinations.firstIndex(where: { $0.id == id }) else {
                throw .noSuchDestination(key, id)
            }
            current.services[index].destinations.remove(at: d)
        }
    }

    private func serviceIndex(_ key: ServiceKey) throws(IPVSError) -> Int {
        guard let index = current.services.firstIndex(where: { $0.key == key }) else { throw .noSuchService(key) }
        return index
    }
}
