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
import Addressing
import LoadFeedback
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

    /// - Parameter peers: a scale-out director also asks the group's other directors (`h2e-director status`);
    ///   not for its own `/status.json`, which those peers ask in turn.
    public func status(peers: Bool = false) async -> StatusReport {
        let heartbeat = await role?.heartbeatStatistics()
        let lastChecks = await health?.engine.lastChecks() ?? [:]
        let failover = await failoverServices?.status()
        let runtime = await core.state.runtime
        var bird: Result<BirdStatus, BirdControlError>?
        var others: [StatusReport.PeerDirector] = []
        if case .scaleOut(_, let socket) = runtime.role {
            async let asked = Self.askBird(socket)
            if peers { others = await Self.askPeers(runtime.configuration.global.scaleOutPeers) }
            bird = await asked
        }
        var report = await core.status(heartbeat: heartbeat, lastChecks: lastChecks, failover: failover, bird: bird)
        report.group?.peers = others
        return report
    }

    /// The group's other directors, each from its `/status.json`, concurrently, each within 1 s.
    static func askPeers(_ peers: [HostPort]) async -> [StatusReport.PeerDirector] {
        let client = AgentClient(
            configuration: .init(connectTimeout: .seconds(1), deadline: .seconds(1), maximumSize: 8 << 20, path: "/status.json"))
        return await withTaskGroup(of: (Int, StatusReport.PeerDirector).self) { group in
            for (index, peer) in peers.enumerated() {
                group.addTask {
                    let target = AgentClient.Target(host: peer.host, port: peer.port)
                    var answer = StatusReport.PeerDirector(address: peer.description)
                    switch await client.body(target) {
                    case .failure(let failure):
                        answer.error = "\(failure)"
                    case .success(let body):
                        guard let report = try? JSONDecoder().decode(StatusReport.self, from: Data(body)) else {
                            answer.error = "its /status.json is not an h2e-director status"
                            break
                        }
                        guard let group = report.group else {
                            answer.error = "not a scale-out director (no scale_out = 1)"
                            break
                        }
                        answer.announced = group.announced
                        answer.drained = group.drained
                        answer.bgp = group.bird?.protocols.filter { $0.proto == "BGP" }.map { "\($0.name) \($0.state) \($0.info)" }
                        answer.bfd = group.bird?.bfdSessions.map { "\($0.address) \($0.state)" }
                        if group.bird == nil { answer.error = "its BIRD: \(group.birdError ?? "unknown")" }
                    }
                    return (index, answer)
                }
            }
            var answers: [(Int, StatusReport.PeerDirector)] = []
            for await answer in group { answers.append(answer) }
            return answers.sorted { $0.0 < $1.0 }.map(\.1)
        }
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
