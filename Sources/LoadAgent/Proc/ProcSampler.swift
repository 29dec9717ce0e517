/// Reads the machine's figures from a /proc tree (injected, so tests can point it at fixtures).
public struct ProcSampler: Sendable {
    /// The /proc directory ("/proc").
    public var root: String
    /// Local ports of the served services; established connections to them are counted.
    public var servicePorts: Set<UInt16>

    public init(root: String = "/proc", servicePorts: Set<UInt16>) {
        self.root = root
        self.servicePorts = servicePorts
    }

    public func loadAverage() throws(AgentError) -> LoadAverage {
        try parsing { () throws(ProcParseError) in try LoadAverage.parse(try text("loadavg")) }
    }

    public func cpuTimes() throws(AgentError) -> CPUTimes {
        try parsing { () throws(ProcParseError) in try CPUTimes.parse(try text("stat")) }
    }

    public func memory() throws(AgentError) -> MemoryInfo {
        try parsing { () throws(ProcParseError) in try MemoryInfo.parse(try text("meminfo")) }
    }

    /// Established connections to the service ports over IPv4 and IPv6; a missing tcp6 (IPv6 disabled) counts 0.
    public func tcpEstablished() throws(AgentError) -> Int {
        var count = try parsing { () throws(ProcParseError) in
            try TCPTable.countEstablished(try text("net/tcp"), localPorts: servicePorts)
        }
        if FileIO.exists("\(root)/net/tcp6") {
            count += try parsing { () throws(ProcParseError) in
                try TCPTable.countEstablished(try text("net/tcp6"), localPorts: servicePorts)
            }
        }
        return count
    }

    private func text(_ name: String) throws(ProcParseError) -> String {
        do { return try FileIO.readText("\(root)/\(name)") } catch {
            guard case .io(_, _, let reason) = error else { throw ProcParseError(file: "\(root)/\(name)", reason: "\(error)") }
            throw ProcParseError(file: "\(root)/\(name)", reason: "\(reason); is /proc mounted?")
        }
    }

    private func parsing<T>(_ body: () throws(ProcParseError) -> T) throws(AgentError) -> T {
        do { return try body() } catch { throw .parse(error) }
    }
}
