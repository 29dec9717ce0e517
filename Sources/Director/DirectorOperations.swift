#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HealthCheck
import Heartbeat
import IPVS
import NIOHTTP1
import ScaleOut
import Dispatch

/// What the operator's listeners (the control socket, the status page and metrics) ask of the running director.
/// The one place where `status` is put together: the core's state, and what the other services know of their own
/// (the heartbeat, the health checks' last results, the failover services). Services feed the core; nothing is
/// attached back into it.
public struct DirectorOperations: Sendable {
    public let core: DirectorCore
    let health: HealthService?
    let role: RoleService?
    let failoverServices: FosService?
    let reloader: ReloadService?

    /// - Parameters: the services that run (nil: not in this director, or not yet in a test).
    public init(
        core: DirectorCore, health: HealthService? = nil, role: RoleService? = nil,
        failoverServices: FosService? = nil, reloader: ReloadService? = nil
    ) {
        self.core = core
        self.health = health
        self.role = role
        self.failoverServices = failoverServices
        self.reloader = reloader
    }

    public func status() async -> StatusReport {
        let heartbeat = await role?.heartbeatStatistics()
        let lastChecks = await health?.engine.lastChecks() ?? [:]
        let failover = await failoverServices?.status()
        var bird: Result<BirdStatus, BirdControlError>?
        if case .scaleOut(_, let socket) = await core.state.runtime.role {
            bird = await Self.askBird(socket)
        }
        return await core.status(heartbeat: heartbeat, lastChecks: lastChecks, failover: failover, bird: bird)
    }

    /// BIRD's sessions, read off Swift's cooperative pool (the control socket blocks, with a 2 s deadline).
    static func askBird(_ socket: String) async -> Result<BirdStatus, BirdControlError> {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                do throws(BirdControlError) {
                    continuation.resume(returning: .success(try BirdStatus.read(socket: socket)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
    }

    /// `director drain|resume`.
    public func drainDirector(_ drain: Bool) async throws(ControlError) -> String {
        try await core.drainDirector(drain)
    }

    /// Re-reads lvs.cf as SIGHUP does; nil when the new configuration runs, else why not.
    public func reload() async -> String? {
        guard let reloader else { return "this director does not reload (it runs without its reload service)" }
        return await reloader.reload(reason: "control socket")
    }

    public func override(_ action: OverrideAction, virtual: String, address: String) async throws(ControlError)
        -> String
    {
        try await core.override(action, virtual: virtual, address: address)
    }

    public func kernelTable() async throws -> IPVSTable {
        try await core.kernelTable()
    }

    /// The HTTP server's pages: the status page, its JSON, and the metrics with the listeners' `gates`.
    func respond(_ path: String, gates: [ConnectionGate] = []) async -> (HTTPResponseStatus, String, String) {
        switch path {
        case "/metrics":
            // Only the failover services' part of the status: /metrics maps no status report.
            let failover = await failoverServices?.status()
            let model = await core.model
            var up: [String: Int] = [:]
            var configured: [String: Int] = [:]
            for virtual in model.configuration.virtualServers where virtual.active {
                let servers = virtual.realServers.filter(\.active)
                up[virtual.name] = servers.filter { server in
                    model.health[RealServerID(virtual: virtual.name, server: server.name)]?.state == .up
                }.count
                configured[virtual.name] = servers.count
            }
            let snapshot = MetricsText.Snapshot(
                counters: await core.counters, health: await health?.engine.statistics(),
                heartbeat: await role?.heartbeatStatistics().map(MetricsText.HeartbeatCounters.init),
                table: failover == nil ? try? await core.kernelTable() : nil, serversUp: up,
                serversConfigured: configured, failover: failover,
                listeners: gates.map { ($0.name, $0.statistics) }, panic: model.panic)
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", MetricsText.render(snapshot))
        case "/", "/index.html":
            return (.ok, "text/html; charset=utf-8", StatusPage.render(await status()))
        case "/status.json":
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let body = (try? encoder.encode(await status())).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return (.ok, "application/json", body + "\n")
        default:
            return (.notFound, "text/plain; charset=utf-8", "not found: / (status page), /status.json, /metrics\n")
        }
    }
}
