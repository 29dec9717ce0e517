/// `service = fos` in `status`: the director's failure state and each failover service (field names are a stable
/// contract, like the rest of the report).
extension StatusReport {
    public struct Failover: Codable, Sendable, Hashable {
        /// True while this director's services count as failed: it announces itself unfit and takes no VIPs from a
        /// live peer.
        public var failed: Bool
        /// Seconds left of the hold-down (a backup's failure ends then), nil when not failed or active.
        public var holdDownLeftSeconds: Double?
        public var consecutiveFailures: Int
        /// Failed checks and start commands since start.
        public var failures: Int
        public var services: [FailoverService]
    }

    public struct FailoverService: Codable, Sendable, Hashable {
        public var name: String
        /// The VIP and its interface: `10.0.0.10/32 dev eth0:1`.
        public var address: String
        public var port: Int
        /// `stopped`, `starting`, `running`, `stopping` or `waiting to retry`.
        public var state: String
        /// True while it runs on this director (started and not stopped).
        public var runsHere: Bool
        public var check: String
        /// `passed`, or `failed: <reason>`; nil before the first check.
        public var lastCheck: String?
        public var lastCheckAgeSeconds: Double?
        public var checks: Int
        public var checkFailures: Int
        public var start: Command
        public var stop: Command
    }

    /// A `start_cmd` or `stop_cmd` and its last run.
    public struct Command: Codable, Sendable, Hashable {
        /// The command line; nil when the block has none.
        public var command: String?
        public var runs: Int
        public var failures: Int
        /// `ok`, or the failure (`exited with status 1`, `killed after its time limit of 30 seconds`); nil before
        /// the first run.
        public var lastResult: String?
        public var lastAgeSeconds: Double?
        public var lastDurationSeconds: Double?
        /// The start of its standard output and error (at most 4 KiB).
        public var lastOutput: String?
    }

    /// The failover section of the text format.
    var failoverLines: [String] {
        guard let failover else { return [] }
        var head = "failover services: "
        if failover.failed {
            head += "FAILED (\(failover.consecutiveFailures) consecutive"
            if let left = failover.holdDownLeftSeconds { head += ", hold-down \(Self.age(left)) left" }
            head += ")"
        } else {
            head += "ok"
        }
        head += ", \(failover.failures) failures"
        var rows: [[String]] = [["SERVICE", "ADDRESS", "STATE", "HERE", "CHECKED", "START", "STOP"]]
        for service in failover.services {
            var checked = "-"
            if let last = service.lastCheck, let age = service.lastCheckAgeSeconds {
                checked = (last == "passed" ? "ok" : last) + " \(Self.age(age))"
            }
            let command = { (command: Command) -> String in
                guard let result = command.lastResult else { return command.command == nil ? "none" : "-" }
                return result + (command.lastAgeSeconds.map { " \(Self.age($0))" } ?? "")
                    + (command.failures > 0 ? " (\(command.failures) failed)" : "")
            }
            rows.append([
                service.name, "\(service.address) port \(service.port)", service.state, service.runsHere ? "yes" : "no",
                checked, command(service.start), command(service.stop),
            ])
        }
        return [head] + Self.table(rows)
    }
}
