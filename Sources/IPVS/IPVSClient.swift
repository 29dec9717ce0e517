import CNetlink

/// The kernel IPVS table over generic netlink: one long-lived socket, one request at a time.
///
/// Every IPVS command is here: services and destinations (add, edit, delete, dump), info, timeouts, counters,
/// flush and the connection sync daemon. Errors are `IPVSError`s that name what to do.
public actor IPVSClient {
    private let socket: GenericNetlinkSocket

    /// Opens the socket and resolves the IPVS family (`IPVSError.notAvailable` without ip_vs).
    public init() throws {
        self.socket = try GenericNetlinkSocket()
    }

    // MARK: Services

    public func addService(_ service: VirtualService) throws {
        try validate(service)
        try socket.request(IPVS_CMD_NEW_SERVICE, operation: .addService(service.key, service.scheduler)) { message in
            try MessageBuilder(message: message).putService(service, full: true)
        }
    }

    /// Changes scheduler, persistence or flags of an existing service in place (connections are kept).
    public func updateService(_ service: VirtualService) throws {
        try validate(service)
        try socket.request(IPVS_CMD_SET_SERVICE, operation: .updateService(service.key, service.scheduler)) { message in
            try MessageBuilder(message: message).putService(service, full: true)
        }
    }

    public func deleteService(_ key: ServiceKey) throws {
        try socket.request(IPVS_CMD_DEL_SERVICE, operation: .deleteService(key)) { message in
            try MessageBuilder(message: message).putServiceKey(key)
        }
    }

    // MARK: Destinations

    public func addDestination(_ destination: Destination, to key: ServiceKey) throws {
        try validate(destination)
        try socket.request(IPVS_CMD_NEW_DEST, operation: .addDestination(key, destination.id)) { message in
            let builder = MessageBuilder(message: message)
            try builder.putServiceKey(key)
            try builder.putDestination(destination, serviceFamily: key.family)
        }
    }

    /// Changes weight, thresholds or forwarding of a destination in place.
    public func updateDestination(_ destination: Destination, in key: ServiceKey) throws {
        try validate(destination)
        try socket.request(IPVS_CMD_SET_DEST, operation: .updateDestination(key, destination.id)) { message in
            let builder = MessageBuilder(message: message)
            try builder.putServiceKey(key)
            try builder.putDestination(destination, serviceFamily: key.family)
        }
    }

    public func deleteDestination(_ id: Destination.ID, from key: ServiceKey) throws {
        try socket.request(IPVS_CMD_DEL_DEST, operation: .deleteDestination(key, id)) { message in
            let builder = MessageBuilder(message: message)
            try builder.putServiceKey(key)
            try builder.nest(Int32(IPVS_CMD_ATTR_DEST)) {
                try builder.put(Int32(IPVS_DEST_ATTR_ADDR), bytes: id.address.bytes)
                try builder.put(Int32(IPVS_DEST_ATTR_PORT), u16: id.port.bigEndian)
                try builder.put(Int32(IPVS_DEST_ATTR_ADDR_FAMILY), u16: id.address.family.rawValue)
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

    /// Applies reconciler changes in order; stops at the first failure and throws it with the change that failed.
    /// Returns how many changes were applied.
    @discardableResult
    public func apply(_ changes: [IPVSChange]) throws -> Int {
        for (index, change) in changes.enumerated() {
            do {
                switch change {
                case .addService(let service): try addService(service)
                case .updateService(let service): try updateService(service)
                case .deleteService(let key): try deleteService(key)
                case .addDestination(let key, let destination): try addDestination(destination, to: key)
                case .updateDestination(let key, let destination, _): try updateDestination(destination, in: key)
                case .deleteDestination(let key, let id): try deleteDestination(id, from: key)
                }
            } catch let error as IPVSError {
                throw IPVSApplyError(change: change, applied: index, underlying: error)
            }
        }
        return changes.count
    }

    // MARK: Validation

    private func validate(_ service: VirtualService) throws {
        if case .address(_, let address, _) = service.key, address.family != service.key.family {
            throw IPVSError.invalid("service \(service.key): address family mismatch")
        }
        if let persistence = service.persistence, service.key.family == .inet6, !(1...128).contains(persistence.netmask) {
            throw IPVSError.invalid("service \(service.key): IPv6 persistence prefix must be 1...128, not \(persistence.netmask)")
        }
        if service.scheduler.rawValue.isEmpty || service.scheduler.rawValue.utf8.count >= 16 {
            throw IPVSError.invalid("service \(service.key): scheduler name \"\(service.scheduler)\" is not valid")
        }
    }

    private func validate(_ destination: Destination) throws {
        guard Destination.weights.contains(destination.weight) else {
            throw IPVSError.invalid(
                "destination \(destination.id): weight \(destination.weight) is outside \(Destination.weights)")
        }
    }
}

/// A change that the kernel refused, and how many of the list went in before it.
public struct IPVSApplyError: Error, Sendable, CustomStringConvertible {
    public var change: IPVSChange
    public var applied: Int
    public var underlying: IPVSError

    public init(change: IPVSChange, applied: Int, underlying: IPVSError) {
        self.change = change
        self.applied = applied
        self.underlying = underlying
    }

    public var description: String { "\(change): \(underlying)" }
}
