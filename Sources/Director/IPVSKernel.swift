import IPVS

/// Where the director's IPVS table lives: the kernel over netlink in production (``NetlinkIPVSKernel``), a table in
/// memory in tests and on machines without IPVS (``InMemoryIPVSKernel``).
public protocol IPVSKernel: Sendable {
    /// The whole table, with destinations.
    func table() async throws -> IPVSTable
    /// Applies changes in order; on failure throws an ``IPVSApplyError`` naming the first change that failed and
    /// listing those that went in (the kernel may have made some after the failed one).
    func apply(_ changes: [IPVSChange]) async throws
    /// Sets the connection timeouts (0 leaves one as it is).
    func setTimeouts(_ timeouts: IPVSTimeouts) async throws
    /// Makes the connection sync daemon run in this state only (nil: none).
    func setSyncDaemon(_ daemon: SyncDaemon?) async throws
}

/// The kernel's IPVS over generic netlink. The socket is opened on first use and again after it could not be
/// opened, so a director started before `modprobe ip_vs` recovers on a later tick. Runs on the client's executor:
/// opening the socket blocks too, and calls into the client need no thread hop.
public actor NetlinkIPVSKernel: IPVSKernel {
    private var client: IPVSClient?

    public nonisolated var unownedExecutor: UnownedSerialExecutor { IPVSClient.executor.asUnownedSerialExecutor() }

    public init() {}

    private func connected() throws -> IPVSClient {
        if let client { return client }
        let client = try IPVSClient()
        self.client = client
        return client
    }

    public func table() async throws -> IPVSTable {
        try await connected().table()
    }

    public func apply(_ changes: [IPVSChange]) async throws {
        let client: IPVSClient
        do {
            client = try connected()
        } catch let error as IPVSError {
            guard let first = changes.first else { return }
            throw IPVSApplyError(change: first, underlying: error, refused: changes.count)
        }
        try await client.apply(changes)
    }

    public func setTimeouts(_ timeouts: IPVSTimeouts) async throws {
        try await connected().setTimeouts(timeouts)
    }

    public func setSyncDaemon(_ daemon: SyncDaemon?) async throws {
        let client = try connected()
        for running in try await client.syncDaemons() where running != daemon {
            try await client.stopSyncDaemon(running.state)
        }
        if let daemon, !(try await client.syncDaemons()).contains(daemon) {
            try await client.startSyncDaemon(daemon)
        }
    }
}
