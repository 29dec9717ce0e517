import HealthCheck
import Heartbeat
import IPVS

/// The Prometheus text exposition (format 0.0.4) of the director's counters and the kernel's per-destination
/// counters. Pure: built from snapshots.
public struct MetricsText {
    public struct Snapshot: Sendable {
        public var counters: DirectorState.Counters
        public var health: HealthCheckStatistics?
        public var heartbeat: HeartbeatCounters?
        /// The kernel table with statistics, nil when it could not be read.
        public var table: IPVSTable?
        /// Servers in the desired table per virtual server, and those with health up.
        public var serversUp: [String: Int]
        public var serversConfigured: [String: Int]
        /// `service = fos`: the failover services.
        public var failover: StatusReport.Failover?
        /// Each listener's name (the status page, the control socket) and counters.
        public var listeners: [(name: String, statistics: ConnectionGate.Statistics)]
        /// The overload guard: virtual servers in panic and panics so far.
        public var panic: PanicState

        public init(
            counters: DirectorState.Counters, health: HealthCheckStatistics?, heartbeat: HeartbeatCounters?,
            table: IPVSTable?, serversUp: [String: Int] = [:], serversConfigured: [String: Int] = [:],
            failover: StatusReport.Failover? = nil,
            listeners: [(name: String, statistics: ConnectionGate.Statistics)] = [],
            panic: PanicState = PanicState()
        ) {
            self.panic = panic
            self.failover = failover
            self.listeners = listeners
            self.counters = counters
            self.health = health
            self.heartbeat = heartbeat
            self.table = table
            self.serversUp = serversUp
            self.serversConfigured = serversConfigured
        }
    }

    /// The heartbeat's counters (``HeartbeatStatistics`` has no public initialiser, and metrics need only these).
    public struct HeartbeatCounters: Sendable {
        public var sent: Int
        public var accepted: Int
        public var rejections: [HeartbeatRejection: Int]

        public init(sent: Int = 0, accepted: Int = 0, rejections: [HeartbeatRejection: Int] = [:]) {
            self.sent = sent
            self.accepted = accepted
            self.rejections = rejections
        }

        public init(_ statistics: HeartbeatStatistics) {
            self.init(sent: statistics.sent, accepted: statistics.accepted, rejections: statistics.rejections)
        }
    }

    private var lines: [String] = []

    public static func render(_ snapshot: Snapshot) -> String {
        var text = MetricsText()
        let c = snapshot.counters
        text.metric("h2e_director_active", "gauge", "1 while this director holds the virtual addresses.", c.role == .active ? 1 : 0)
        text.metric("h2e_failovers_total", "counter", "Role changes between active and backup.", c.failovers)
        text.metric("h2e_weight_changes_total", "counter", "Weights changed by load feedback.", c.weightChanges)
        text.header("h2e_load_failures_total", "counter", "Load readings that gave no load (weight held), by kind.")
        for (kind, count) in c.loadFailures.sorted(by: { $0.key < $1.key }) {
            text.sample("h2e_load_failures_total", ["kind": kind], count)
        }
        text.metric("h2e_ipvs_changes_total", "counter", "Changes applied to the IPVS table.", c.changesApplied)
        text.metric("h2e_netlink_errors_total", "counter", "Failed IPVS reads or changes (retried).", c.netlinkErrors)
        text.metric("h2e_reloads_total", "counter", "Configurations reloaded on SIGHUP.", c.reloads)
        text.metric("h2e_reload_failures_total", "counter", "SIGHUPs whose configuration was rejected.", c.reloadFailures)
        if let announced = c.announced {
            text.metric("h2e_announced_addresses", "gauge", "Addresses on the announce device (BIRD exports them).", announced)
            text.metric("h2e_announcements_total", "counter", "Addresses announced (put on the announce device).", c.announcements)
            text.metric("h2e_withdrawals_total", "counter", "Addresses withdrawn (taken off the announce device).", c.withdrawals)
            text.metric("h2e_director_drained", "gauge", "1 while the operator has drained this director.", c.drained == true ? 1 : 0)
        }
        if let health = snapshot.health {
            text.metric("h2e_health_checks_total", "counter", "Health checks completed.", health.passed + health.failed)
            text.metric("h2e_health_check_failures_total", "counter", "Health checks that failed.", health.failed)
            text.metric("h2e_health_check_timeouts_total", "counter", "Health checks that timed out.", health.timedOut)
            text.metric(
                "h2e_health_check_local_errors_total", "counter",
                "Health checks not made for a local error (EMFILE, ENOBUFS...): no verdict.", health.localErrors)
        }
        if !snapshot.listeners.isEmpty {
            let families: [(String, String, String, KeyPath<ConnectionGate.Statistics, Int>)] = [
                ("h2e_listener_connections_open", "gauge", "Connections open, per listener.", \.open),
                ("h2e_listener_connections_total", "counter", "Connections admitted, per listener.", \.accepted),
                ("h2e_listener_connections_refused_total", "counter", "Connections closed at once (cap reached).", \.refused),
                ("h2e_listener_connections_timed_out_total", "counter", "Connections closed at their deadline.", \.timedOut),
            ]
            for (name, type, help, field) in families {
                text.header(name, type, help)
                for listener in snapshot.listeners {
                    text.sample(name, ["listener": listener.name], listener.statistics[keyPath: field])
                }
            }
        }
        if let heartbeat = snapshot.heartbeat {
            text.metric("h2e_heartbeats_sent_total", "counter", "Heartbeats sent.", heartbeat.sent)
            text.metric("h2e_heartbeats_accepted_total", "counter", "Valid heartbeats received.", heartbeat.accepted)
            text.header("h2e_heartbeat_rejects_total", "counter", "Heartbeats rejected, by reason.")
            for reason in HeartbeatRejection.allCases {
                text.sample("h2e_heartbeat_rejects_total", ["reason": Self.label(reason)], heartbeat.rejections[reason] ?? 0)
            }
        }
        text.header("h2e_servers_up", "gauge", "Real servers whose health checks pass, per virtual server.")
        for (virtual, count) in snapshot.serversUp.sorted(by: { $0.key < $1.key }) {
            text.sample("h2e_servers_up", ["virtual": virtual], count)
        }
        text.header("h2e_servers_configured", "gauge", "Active real servers, per virtual server.")
        for (virtual, count) in snapshot.serversConfigured.sorted(by: { $0.key < $1.key }) {
            text.sample("h2e_servers_configured", ["virtual": virtual], count)
        }
        let panicFamilies: [(String, String, String, (String) -> Int)] = [
            ("h2e_virtual_panic", "gauge", "1 while the virtual server is in panic (too few real servers pass their checks).",
             { snapshot.panic.panics[$0] == nil ? 0 : 1 }),
            ("h2e_panics_total", "counter", "Panics begun, per virtual server.", { snapshot.panic.entries[$0] ?? 0 }),
        ]
        for (name, type, help, value) in panicFamilies {
            text.header(name, type, help)
            for virtual in snapshot.serversConfigured.keys.sorted() { text.sample(name, ["virtual": virtual], value(virtual)) }
        }
        if let failover = snapshot.failover { text.failover(failover) }
        if let table = snapshot.table {
            let families: [(String, String, String, (Destination) -> UInt64)] = [
                ("h2e_ipvs_destination_weight", "gauge", "Weight in the kernel table.", { UInt64($0.weight) }),
                ("h2e_ipvs_destination_active_connections", "gauge", "Active connections.", { UInt64($0.activeConnections) }),
                ("h2e_ipvs_destination_inactive_connections", "gauge", "Inactive connections.", { UInt64($0.inactiveConnections) }),
                ("h2e_ipvs_destination_connections_total", "counter", "Connections scheduled.", { $0.statistics?.connections ?? 0 }),
                ("h2e_ipvs_destination_in_packets_total", "counter", "Packets in.", { $0.statistics?.inPackets ?? 0 }),
                ("h2e_ipvs_destination_out_packets_total", "counter", "Packets out.", { $0.statistics?.outPackets ?? 0 }),
                ("h2e_ipvs_destination_in_bytes_total", "counter", "Bytes in.", { $0.statistics?.inBytes ?? 0 }),
                ("h2e_ipvs_destination_out_bytes_total", "counter", "Bytes out.", { $0.statistics?.outBytes ?? 0 }),
            ]
            for (name, type, help, value) in families {
                text.header(name, type, help)
                for service in table.services {
                    for destination in service.destinations {
                        text.sample(name, ["service": "\(service.key)", "server": "\(destination.id)"], value(destination))
                    }
                }
            }
        }
        return text.lines.joined(separator: "\n") + "\n"
    }

    private mutating func failover(_ failover: StatusReport.Failover) {
        metric("h2e_failover_services_failed", "gauge", "1 while this director's failover services count as failed.", failover.failed ? 1 : 0)
        metric("h2e_failover_service_failures_total", "counter", "Failed checks and start commands of failover services.", failover.failures)
        header("h2e_failover_service_running", "gauge", "1 while the failover service runs on this director.")
        for service in failover.services { sample("h2e_failover_service_running", ["service": service.name], service.runsHere ? 1 : 0) }
        header("h2e_failover_service_check_passed", "gauge", "1 if the service's last check passed, 0 if it failed, -1 before any.")
        for service in failover.services {
            sample("h2e_failover_service_check_passed", ["service": service.name], service.lastCheck.map { $0 == "passed" ? 1 : 0 } ?? -1)
        }
        header("h2e_failover_service_checks_total", "counter", "Checks of the failover service.")
        for service in failover.services { sample("h2e_failover_service_checks_total", ["service": service.name], service.checks) }
        header("h2e_failover_service_check_failures_total", "counter", "Failed checks of the failover service.")
        for service in failover.services { sample("h2e_failover_service_check_failures_total", ["service": service.name], service.checkFailures) }
        header("h2e_failover_commands_total", "counter", "start_cmd and stop_cmd runs.")
        for service in failover.services {
            sample("h2e_failover_commands_total", ["service": service.name, "command": "start"], service.start.runs)
            sample("h2e_failover_commands_total", ["service": service.name, "command": "stop"], service.stop.runs)
        }
        header("h2e_failover_command_failures_total", "counter", "start_cmd and stop_cmd runs that failed (status, signal, time limit).")
        for service in failover.services {
            sample("h2e_failover_command_failures_total", ["service": service.name, "command": "start"], service.start.failures)
            sample("h2e_failover_command_failures_total", ["service": service.name, "command": "stop"], service.stop.failures)
        }
    }

    private mutating func metric(_ name: String, _ type: String, _ help: String, _ value: some BinaryInteger) {
        header(name, type, help)
        sample(name, [:], value)
    }

    private mutating func header(_ name: String, _ type: String, _ help: String) {
        lines.append("# HELP \(name) \(help)")
        lines.append("# TYPE \(name) \(type)")
    }

    private mutating func sample(_ name: String, _ labels: [String: String], _ value: some BinaryInteger) {
        let labelText =
            labels.isEmpty
            ? "" : "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.escape($0.value))\"" }.joined(separator: ",") + "}"
        lines.append("\(name)\(labelText) \(value)")
    }

    /// A short label for a rejection (its description is a sentence).
    static func label(_ rejection: HeartbeatRejection) -> String { rejection.label }

    /// Label values escape backslash, double quote and newline.
    static func escape(_ value: String) -> String {
        value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
    }
}
