import HealthCheck
import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// h2e-bench-healthcheck: sustained health checks per second against local HTTP servers.
///
///     h2e-bench-healthcheck serve [--addresses N] [--ports M] [--base-port P] [--threads T] [--ready FILE]
///                                 [--silent K]
///     h2e-bench-healthcheck check [--targets N] [--interval S] [--duration S] [--warmup S] [--addresses N]
///                                 [--ports M] [--base-port P] [--threads T] [--server-pid PID]
///                                 [--max-in-flight N] [--silent K]
///
/// `--silent K`: the first K addresses accept and never answer (hung servers); `check` then reports their targets
/// and the answering ones apart.
///
/// `serve` runs the servers until killed; `check` runs the engine against them and prints checks/s, CPU and the
/// lateness of checks against their schedule. scripts/bench-healthcheck runs both.
@main
struct BenchHealthCheck {
    static func main() async throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard let mode = arguments.first else { usage() }
        arguments.removeFirst()
        var options: [String: String] = [:]
        while arguments.count >= 2, arguments[0].hasPrefix("--") {
            options[String(arguments[0].dropFirst(2))] = arguments[1]
            arguments.removeFirst(2)
        }
        guard arguments.isEmpty else { usage() }
        func int(_ name: String, _ fallback: Int) -> Int { options[name].flatMap(Int.init) ?? fallback }
        func double(_ name: String, _ fallback: Double) -> Double { options[name].flatMap(Double.init) ?? fallback }

        let addresses = int("addresses", 50)
        let ports = int("ports", 5)
        let basePort = int("base-port", 18_000)
        let threads = int("threads", System.coreCount)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)

        switch mode {
        case "serve":
            let channels = try await BenchServer.start(
                addresses: addresses, ports: ports, basePort: basePort, silent: int("silent", 0), group: group)
            print("serving \(channels.count) listeners on \(addresses) addresses x \(ports) ports")
            if let ready = options["ready"] {
                let file = fopen(ready, "w")
                fputs("ready\n", file)
                fclose(file)
            }
            try await channels[0].closeFuture.get()
        case "check":
            try await check(
                targets: int("targets", 10_000), interval: double("interval", 1), duration: double("duration", 20),
                warmup: double("warmup", 5), addresses: addresses, ports: ports, basePort: basePort, group: group,
                serverPID: options["server-pid"].flatMap(Int32.init), maximumInFlight: int("max-in-flight", 2_048),
                silent: int("silent", 0))
        default:
            usage()
        }
    }

    static func check(
        targets count: Int, interval: Double, duration: Double, warmup: Double, addresses: Int, ports: Int,
        basePort: Int, group: MultiThreadedEventLoopGroup, serverPID: Int32?, maximumInFlight: Int, silent: Int
    ) async throws {
        var logger = Logger(label: "h2e.bench")
        logger.logLevel = .warning  // thousands of "[ active ] making ... available" lines otherwise
        let engine = HealthCheckEngine<Int>(
            checker: HealthChecker(group: group), logger: logger, maximumChecksInFlight: maximumInFlight)
        let timing = try HealthCheckTiming(
            timeout: .seconds(2), interval: .seconds(interval), fall: 1, reentry: .seconds(180), jitter: 0.1)
        let check = try HealthCheck.piranha(port: 80)
        var targets: [Int: HealthTarget] = [:]
        for index in 0..<count {
            let endpoint = try HealthEndpoint(
                host: benchAddress(1 + index % addresses), port: basePort + (index / addresses) % ports)
            targets[index] = HealthTarget(endpoint: endpoint, check: check, timing: timing)
        }
        await engine.setTargets(targets)
        let running = Task { await engine.run() }

        print("targets \(count), interval \(interval) s (jitter 10%), \(addresses * ports) endpoints, "
            + "\(group.makeIterator().map { _ in 1 }.count) event loop threads; warm-up \(warmup) s, measure \(duration) s")
        try await Task.sleep(for: .seconds(warmup))
        _ = await engine.statistics(reset: true)
        let cpuBefore = processCPU()
        let systemBefore = processCPU(systemOnly: true)
        let serverBefore = serverPID.flatMap(childCPU)
        let start = ContinuousClock.now
        try await Task.sleep(for: .seconds(duration))
        let statistics = await engine.statistics(reset: true)
        let elapsed = seconds(start.duration(to: .now))
        let cpu = processCPU() - cpuBefore
        let systemCPU = processCPU(systemOnly: true) - systemBefore
        let serverCPU = serverPID.flatMap(childCPU).flatMap { after in serverBefore.map { after - $0 } }
        let health = await engine.healthSnapshot()
        running.cancel()

        let up = health.values.filter { $0 == .up }.count
        print("checks started  \(statistics.started) in \(format(elapsed)) s = \(format(Double(statistics.started) / elapsed)) checks/s")
        print("checks passed   \(statistics.passed), failed \(statistics.failed) (timeouts \(statistics.timedOut)); "
            + "servers up \(up)/\(count); peak in flight \(statistics.peakInFlight)")
        if silent > 0 {
            // Target `index` is on address 1 + index % addresses (above): silent when that is at most `silent`.
            let isSilent = { (index: Int) in 1 + index % addresses <= silent }
            let hung = health.filter { isSilent($0.key) }
            let answering = health.filter { !isSilent($0.key) }
            let down = hung.values.filter { if case .down(.timeout) = $0 { true } else { false } }.count
            print("verdicts        hung servers down (timeout) \(down)/\(hung.count), "
                + "answering servers up \(answering.values.filter { $0 == .up }.count)/\(answering.count)")
        }
        print("checker CPU     \(format(cpu)) s = \(format(100 * cpu / elapsed))% of one core"
            + " (\(format(1e6 * cpu / Double(max(1, statistics.started)))) us per check, "
            + "\(format(100 * systemCPU / max(cpu, 1e-9)))% in the kernel)")
        if let serverCPU {
            print("servers CPU     \(format(serverCPU)) s = \(format(100 * serverCPU / elapsed))% of one core")
        }
        let lateness = statistics.lateness
        print("lateness        p50 \(millis(lateness.percentile(0.5))) ms, p99 \(millis(lateness.percentile(0.99))) ms, "
            + "max \(millis(lateness.maximum)) ms (start of check vs its deadline)")
        let durations = statistics.durations
        print("check duration  p50 \(millis(durations.percentile(0.5))) ms, p99 \(millis(durations.percentile(0.99))) ms, "
            + "max \(millis(durations.maximum)) ms (start to result)")
        // The process exits now: no group shutdown under checks still in flight.
    }

    /// User + system (or only system) CPU seconds of this process.
    static func processCPU(systemOnly: Bool = false) -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return systemOnly ? system : system + Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    }

    /// User + system CPU seconds of another process, from /proc/PID/stat (fields 14 and 15, in clock ticks).
    static func childCPU(_ pid: Int32) -> Double? {
        guard let file = fopen("/proc/\(pid)/stat", "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 4_096)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
        guard let close = line.lastIndex(of: ")") else { return nil }
        let fields = line[line.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func millis(_ duration: Duration) -> String { format(seconds(duration) * 1_000) }

    static func format(_ value: Double) -> String {
        let scaled = (value * 100).rounded() / 100
        return String(scaled)
    }

    static func usage() -> Never {
        print("usage: h2e-bench-healthcheck serve|check [--option value ...] (see scripts/bench-healthcheck)")
        exit(2)
    }
}
