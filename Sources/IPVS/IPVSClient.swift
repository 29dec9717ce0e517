import CNetlink
import HostSystem

#if canImport(Glibc)
import Glibc
#endif

/// The kernel IPVS table over generic netlink: one long-lived socket, one request (or one batch) at a time.
///
/// Every IPVS command is here: services and destinations (add, edit, delete, dump), info, timeouts, counters,
/// flush and the connection sync daemon. Errors are `IPVSError`s that name what to do. Netlink calls block, so the
/// actor runs on ``executor``, a thread of its own, never on Swift's cooperative pool.
public actor IPVSClient {
    /// Where every IPVS client runs its blocking netlink calls; share it with actors that drive a client.
    public static let executor = BlockingExecutor(label: "h2e.ipvs")

    private let socket: GenericNetlinkSocket

    public nonisolated var unownedExecutor: UnownedSerialExecutor { Self.executor.asUnownedSerialExecutor() }

    /// Opens the socket and resolves the IPVS family (`IPVSError.notAvailable` without ip_vs).
    public init() throws {
        self.socket = try GenericNetlinkSocket()
    }

    // MARK: Services and destinations

    public func addService(_ service: VirtualService) throws { try perform(.addService(service)) }

    /// Changes scheduler, persistence or flags of an existing service in place (connections are kept).
    public func updateService(_ service: VirtualService) throws { try perform(.updateService(service)) }

    public func deleteService(_ key: ServiceKey) throws { try perform(.deleteService(key)) }

    public func addDestination(_ destination: Destination, to key: ServiceKey) throws {
        try perform(.addDestination(key, destination))
    }

    /// Changes weight, thresholds or forwarding of a destination in place.
    public func updateDestination(_ destination: Destination, in key: ServiceKey) throws {
        try perform(.updateDestination(key, destination, previous: destination))
    }

    public func deleteDestination(_ id: Destination.ID, from key: ServiceKey) throws {
        try perform(.deleteDestination(key, id))
    }

    private func perform(_ change: IPVSChange) throws {
        try Self.validate(change)
        try socket.request(Self.command(for: change), operation: Self.operation(for: change)) { message in
            try Self.build(change, into: message)
        }
    }

    /// The netlink command that makes `change`.
    private static func command(for change: IPVSChange) -> Int {
        switch change {
        case .addService: IPVS_CMD_NEW_SERVICE
        case .updateService: IPVS_CMD_SET_SERVICE
        case .deleteService: IPVS_CMD_DEL_SERVICE
        case .addDestination: IPVS_CMD_NEW_DEST
        case .updateDestination: IPVS_CMD_SET_DEST
        case .deleteDestination: IPVS_CMD_DEL_DEST
        }
    }

    /// What `change` is called in errors (the kernel's errno is mapped through it).
    private static func operation(for change: IPVSChange) -> IPVSOperation {
        switch change {
        case .addService(let service): .addService(service.key, service.scheduler)
        case .updateService(let service): .updateService(service.key, service.scheduler)
        case .deleteService(let key): .deleteService(key)
        case .addDestination(let key, let destination): .addDestination(key, destination.id)
        case .updateDestination(let key, let destination, _): .updateDestination(key, destination.id)
        case .deleteDestination(let key, let id): .deleteDestination(key, id)
        }
    }

    /// The attributes of the message that makes `change`.
    private static func build(_ change: IPVSChange, into message: OpaquePointer) throws {
        let builder = MessageBuilder(message: message)
        switch change {
        case .addService(let service), .updateService(let service):
            try builder.putService(service, full: true)
        case .deleteService(let key):
            try builder.putServiceKey(key)
        case .addDestination(let key, let destination), .updateDestination(let key, let destination, _):
            try builder.putServiceKey(key)
            try builder.putDestination(destination, serviceFamily: key.family)
        case .deleteDestination(let key, let id):
            try builder.putServiceKey(key)
            try builder.nest(Int32(IPVS_CMD_ATTR_DEST)) {
                try builder.put(Int32(IPVS_DEST_ATTR_ADDR), bytes: id.address.bytes)
                try builder.put(Int32(IPVS_DEST_ATTR_PORT), u16: id.port.bigEndian)
                try builder.put(Int32(IPVS_DEST_ATTR_ADDR_FAMILY), u16: id.address.family.addressFamily)
            }
        }
    }

    // MARK: Reading

    /// The services in the kernel's order, without destinations.
    public func services() throws -> [VirtualService] {
        var services: [VirtualService] = []
        try socket.request(IPVS_CMD_GET_SERVICE, dump: true, operation: .listServices, onReply: { reply in
            guard let attributes = try reply.nested(Int32(IPVS_CMD_ATTR_SERVICE), max: H2E_IPVS_SVC_ATTR_MAX) else { return }
            services.append(try VirtualService(netlink: attributes))
        })
        return services
    }

    /// The destinations of one service, in the kernel's order, with connection counts and statistics.
    public func destinations(of key: ServiceKey) throws -> [Destination] {
        var destinations: [Destination] = []
        try socket.request(IPVS_CMD_GET_DEST, dump: true, operation: .listDestinations(key)) { message in
            try MessageBuilder(message: message).putServiceKey(key)
        } onReply: { reply in
            guard let attributes = try reply.nested(Int32(IPVS_CMD_ATTR_DEST), max: H2E_IPVS_DEST_ATTR_MAX) else { return }
            destinations.append(try Destination(netlink: attributes, serviceFamily: key.family))
        }
        return destinations
    }

    /// The whole table: every service with its destinations.
    public func table() throws -> IPVSTable {
        var services = try services()
        for index in services.indices {
            services[index].destinations = try destinations(of: services[index].key)
        }
        return IPVSTable(services: services)
    }

    public func info() throws -> IPVSInfo {
        var info = IPVSInfo(version: 0, connectionTableSize: 0)
        try socket.request(IPVS_CMD_GET_INFO, operation: .info, onReply: { reply in
            info.version = reply.u32(Int32(IPVS_INFO_ATTR_VERSION)) ?? 0
            info.connectionTableSize = reply.u32(Int32(IPVS_INFO_ATTR_CONN_TAB_SIZE)) ?? 0
        })
        return info
    }

    // MARK: Timeouts, counters, flush

    public func timeouts() throws -> IPVSTimeouts {
        var timeouts = IPVSTimeouts(tcp: 0, tcpFin: 0, udp: 0)
        try socket.request(IPVS_CMD_GET_CONFIG, operation: .getTimeouts, onReply: { reply in
            timeouts.tcp = reply.u32(Int32(IPVS_CMD_ATTR_TIMEOUT_TCP)) ?? 0
            timeouts.tcpFin = reply.u32(Int32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN)) ?? 0
            timeouts.udp = reply.u32(Int32(IPVS_CMD_ATTR_TIMEOUT_UDP)) ?? 0
        })
        return timeouts
    }

    /// Sets the connection timeouts; a 0 leaves that timeout as it is (as ipvsadm --set).
    public func setTimeouts(_ timeouts: IPVSTimeouts) throws {
        try socket.request(IPVS_CMD_SET_CONFIG, operation: .setTimeouts) { message in
            let builder = MessageBuilder(message: message)
            try builder.put(Int32(IPVS_CMD_ATTR_TIMEOUT_TCP), u32: timeouts.tcp)
            try builder.put(Int32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN), u32: timeouts.tcpFin)
            try builder.put(Int32(IPVS_CMD_ATTR_TIMEOUT_UDP), u32: timeouts.udp)
        }
    }

    /// Zeroes the counters of one service, or of every service when `key` is nil.
    public func zero(_ key: ServiceKey? = nil) throws {
        try socket.request(IPVS_CMD_ZERO, operation: .zero(key)) { message in
            if let key { try MessageBuilder(message: message).putServiceKey(key) }
        }
    }

    /// Removes every service. h2e itself never flushes a table it adopts; this is for tests and operators.
    public func flush() throws {
        try socket.request(IPVS_CMD_FLUSH, operation: .flush)
    }

    // MARK: Sync daemon

    public func startSyncDaemon(_ daemon: SyncDaemon) throws {
        try socket.request(IPVS_CMD_NEW_DAEMON, operation: .startDaemon) { message in
            let builder = MessageBuilder(message: message)
            try builder.nest(Int32(IPVS_CMD_ATTR_DAEMON)) {
                try builder.put(Int32(IPVS_DAEMON_ATTR_STATE), u32: daemon.state.rawValue)
                try builder.put(Int32(IPVS_DAEMON_ATTR_MCAST_IFN), string: daemon.interface)
                try builder.put(Int32(IPVS_DAEMON_ATTR_SYNC_ID), u32: UInt32(daemon.syncID))
            }
        }
    }

    public func stopSyncDaemon(_ state: SyncDaemon.State) throws {
        try socket.request(IPVS_CMD_DEL_DAEMON, operation: .stopDaemon) { message in
            let builder = MessageBuilder(message: message)
            try builder.nest(Int32(IPVS_CMD_ATTR_DAEMON)) {
                try builder.put(Int32(IPVS_DAEMON_ATTR_STATE), u32: state.rawValue)
            }
        }
    }

    public func syncDaemons() throws -> [SyncDaemon] {
        var daemons: [SyncDaemon] = []
        try socket.request(IPVS_CMD_GET_DAEMON, dump: true, operation: .listDaemons, onReply: { reply in
            guard let attributes = try reply.nested(Int32(IPVS_CMD_ATTR_DAEMON), max: H2E_IPVS_DAEMON_ATTR_MAX),
                let raw = attributes.u32(Int32(IPVS_DAEMON_ATTR_STATE)), let state = SyncDaemon.State(rawValue: raw)
            else { return }
            daemons.append(SyncDaemon(
                state: state, interface: attributes.string(Int32(IPVS_DAEMON_ATTR_MCAST_IFN)) ?? "",
                syncID: UInt8(truncatingIfNeeded: attributes.u32(Int32(IPVS_DAEMON_ATTR_SYNC_ID)) ?? 0)))
        })
        return daemons
    }

    // MARK: Changes

    /// Applies reconciler changes in order, many to a netlink datagram (``GenericNetlinkSocket/batch(_:)``).
    ///
    /// A change the kernel refuses does not stop the changes after it in its datagram: they are still made (a
    /// destination whose service could not be added is then refused too). No later datagram is sent. A change
    /// that fails validation is not sent, and nothing after it. Any failure throws an ``IPVSApplyError`` naming the
    /// first refused change and listing the changes that went in; the caller re-reads the table before it trusts
    /// what it knows of it. Returns how many changes were applied.
    @discardableResult
    public func apply(_ changes: [IPVSChange]) throws -> Int {
        // Checked first, so that nothing after an invalid change is sent. (No per-change allocation on this path:
        // a table of tens of thousands of changes goes through it.)
        var sent = changes.count
        var invalid: IPVSError?
        for index in changes.indices {
            do {
                try Self.validate(changes[index])
            } catch let error as IPVSError {
                (sent, invalid) = (index, error)
                break
            }
        }
        var refused: [(index: Int, errno: Int32)]
        var unknown = sent..<sent
        var lost: IPVSError?
        do {
            refused = try socket.batch(count: sent, command: { Self.command(for: changes[$0]) }) { index, message in
                try Self.build(changes[index], into: message)
            }
        } catch let error as GenericNetlinkSocket.BatchError {
            refused = error.refused
            unknown = error.unknown
            lost = error.underlying as? IPVSError
                ?? .netlink(operation: "apply", code: EIO, message: "\(error.underlying)")
        }
        if refused.isEmpty && lost == nil && invalid == nil { return changes.count }

        let refusedIndexes = Set(refused.map(\.index))
        let applied = (0..<sent).filter { !refusedIndexes.contains($0) && !unknown.contains($0) }.map { changes[$0] }
        // The first failure in the list's order: a refusal, else the batch that was lost, else the invalid change.
        if let first = refused.first {
            throw IPVSApplyError(
                change: changes[first.index],
                underlying: .fromKernel(errno: first.errno, operation: Self.operation(for: changes[first.index])),
                appliedChanges: applied, refused: refused.count)
        }
        if let lost {
            throw IPVSApplyError(
                change: changes[unknown.lowerBound], underlying: lost, appliedChanges: applied,
                refused: unknown.count)
        }
        guard let invalid else { return changes.count }
        throw IPVSApplyError(change: changes[sent], underlying: invalid, appliedChanges: applied)
    }

    // MARK: Validation

    /// Throws what the kernel would refuse less clearly.
    private static func validate(_ change: IPVSChange) throws {
        switch change {
        case .addService(let service), .updateService(let service): try validate(service)
        case .addDestination(_, let destination), .updateDestination(_, let destination, _): try validate(destination)
        case .deleteService, .deleteDestination: break
        }
    }

    private static func validate(_ service: VirtualService) throws {
        if case .address(_, let address, _) = service.key, address.family != service.key.family {
            throw IPVSError.invalid("service \(service.key): address family mismatch")
        }
        if let persistence = service.persistence, service.key.family == .ipv6, !(1...128).contains(persistence.netmask) {
            throw IPVSError.invalid("service \(service.key): IPv6 persistence prefix must be 1...128, not \(persistence.netmask)")
        }
        if service.scheduler.rawValue.isEmpty || service.scheduler.rawValue.utf8.count >= 16 {
            throw IPVSError.invalid("service \(service.key): scheduler name \"\(service.scheduler)\" is not valid")
        }
    }

    private static func validate(_ destination: Destination) throws {
        guard Destination.weights.contains(destination.weight) else {
            throw IPVSError.invalid(
                "destination \(destination.id): weight \(destination.weight) is outside \(Destination.weights)")
        }
    }
}

/// A list of changes that did not all go in.
public struct IPVSApplyError: Error, Sendable, CustomStringConvertible {
    /// The first change that failed, in the list's order.
    public var change: IPVSChange
    public var underlying: IPVSError
    /// The changes that went in, in order. Changes after ``change`` may be among them: the kernel carries on with
    /// the rest of a datagram after refusing one.
    public var appliedChanges: [IPVSChange]
    /// How many changes failed or have an unknown outcome (at least 1).
    public var refused: Int

    public var applied: Int { appliedChanges.count }

    public init(change: IPVSChange, underlying: IPVSError, appliedChanges: [IPVSChange] = [], refused: Int = 1) {
        self.change = change
        self.underlying = underlying
        self.appliedChanges = appliedChanges
        self.refused = refused
    }

    public var description: String {
        "\(change): \(underlying)" + (refused > 1 ? " (\(refused) changes in all did not go in, or may not have)" : "")
    }
}
