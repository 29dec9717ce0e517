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
///                                 [--silent K] [--interval S]
///     h2e-bench-healthcheck check [--targets N] [--interval S] [--duration S] [--warmup S] [--addresses N]
///                                 [--ports M] [--base-port P] [--threads T] [--server-pid PID]
///                                 [--max-in-flight N] [--silent K] [--jitter F] [--coalescing MS]
///                                 [--check tcp|udp|program]
///     h2e-bench-healthcheck keepalived-conf [--targets N] [--interval S] [--addresses N] [--ports M] [--base-port P]
///     h2e-bench-healthcheck peer --pid PID [--targets N] [--interval S] [--duration S] [--warmup S] [--addresses N]
///                                [--base-port P] [--silent K] [--name NAME]
///
/// `--silent K`: the first K addresses accept and never answer (hung servers); `check` then reports their targets
/// and the answering ones apart.
///
/// `serve` runs the servers until killed; `check` runs the engine against them and prints checks/s, CPU and the
/// lateness of checks against their schedule. `keepalived-conf` prints a keepalived.conf whose HTTP_GET checkers
/// check the same targets (`/t/N` on the same address and port as h2e's target N); `peer` measures another checker
/// already running (its CPU from /proc/PID/stat, its checks as the servers saw them) in the same format.
/// scripts/bench-healthcheck runs them all.
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
                addresses: addresses, ports: ports, basePort: basePort, silent: int("silent", 0),
                interval: .seconds(double("interval", 1)), group: group)
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
                silent: int("silent", 0), jitter: double("jitter", 0.1), coalescing: int("coalescing", 10),
                kind: options["check"] ?? "tcp")
        case "keepalived-conf":
            print(keepalivedConfiguration(
                targets: int("targets", 10_000), interval: double("interval", 1), addresses: addresses, ports: ports,
                basePort: basePort))
        case "peer":
            guard let pid = options["pid"].flatMap(Int32.init) else { usage() }
            try await peer(
                pid: pid, name: options["name"] ?? "peer", targets: int("targets", 10_000),
                interval: double("interval", 1), duration: double("duration", 20), warmup: double("warmup", 5),
                addresses: addresses, basePort: basePort, silent: int("silent", 0))
        default:
            usage()
        }
    }

    static func check(
        targets count: Int, interval: Double, duration: Double, warmup: Double, addresses: Int, ports: Int,
        basePort: Int, group: MultiThreadedEventLoopGroup, serverPID: Int32?, maximumInFlight: Int, silent: Int,
        jitter: Double, coalescing: Int, kind: String
    ) async throws {
        var logger = Logger(label: "h2e.bench")
        logger.logLevel = .warning  // thousands of "[ active ] making ... available" lines otherwise
        let engine = HealthCheckEngine<Int>(
            checker: HealthChecker(group: group), logger: logger, maximumChecksInFlight: maximumInFlight,
            coalescing: .milliseconds(coalescing))
        let timing = try HealthCheckTiming(
            timeout: .seconds(2), interval: .seconds(interval), fall: 1, reentry: .seconds(180), jitter: jitter)
        var targets: [Int: HealthTarget] = [:]
        for index in 0..<count {
            let endpoint = try HealthEndpoint(
                host: benchAddress(1 + index % addresses), port: basePort + (index / addresses) % ports)
            // nanny's check (GET / HTTP/1.0, expect "HTTP"), on the target's own path so the servers tell them apart.
            let request = Array("GET /t/\(index) HTTP/1.0\r\n\r\n".utf8)
            let check: HealthCheck =
                switch kind {
                case "udp": .udp(send: request, expect: .prefix("HTTP"))
                // A send_program check that asks the server itself, as operators write them.
                case "program":
                    .program(
                        commandLine: "printf 'GET /t/\(index) HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 2 %h %p", expect: .prefix("HTTP"))
                default: .sendExpect(send: request, expect: .prefix("HTTP"))
                }
            targets[index] = HealthTarget(endpoint: endpoint, check: check, timing: timing)
        }
        await engine.setTargets(targets)
        let running = Task { await engine.run() }

        print("targets \(count), interval \(interval) s (jitter \(Int(jitter * 100))%), \(addresses * ports) endpoints, "
            + "\(group.makeIterator().map { _ in 1 }.count) event loop threads, wake-ups coalesced to \(coalescing) ms; "
            + "warm-up \(warmup) s, measure \(duration) s")
        try await Task.sleep(for: .seconds(warmup))
        _ = await engine.statistics(reset: true)
        _ = serverStatistics(address: benchAddress(silent + 1), port: basePort)
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
        let atServers = serverStatistics(address: benchAddress(silent + 1), port: basePort)
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
        summarize(
            name: "h2e", targets: count, answering: answeringTargets(count, addresses: addresses, silent: silent),
            interval: interval, cpu: cpu, atServers: atServers)
        // The process exits now: no group shutdown under checks still in flight.
    }

    /// Measures a checker that is already running (keepalived) as `check` measures h2e's: its CPU over the
    /// window, and its checks as the servers saw them.
    static func peer(
        pid: Int32, name: String, targets: Int, interval: Double, duration: Double, warmup: Double, addresses: Int,
        basePort: Int, silent: Int
    ) async throws {
        try await Task.sleep(for: .seconds(warmup))
        _ = serverStatistics(address: benchAddress(silent + 1), port: basePort)
        guard let before = childCPU(pid) else { throw BenchError("no process \(pid)") }
        try await Task.sleep(for: .seconds(duration))
        guard let after = childCPU(pid) else { throw BenchError("\(name) (pid \(pid)) exited during the run") }
        let atServers = serverStatistics(address: benchAddress(silent + 1), port: basePort)
        summarize(
            name: name, targets: targets, answering: answeringTargets(targets, addresses: addresses, silent: silent),
            interval: interval, cpu: after - before, atServers: atServers)
    }

    /// One line for scripts/bench-healthcheck's table: what the servers saw and the checker's CPU per check.
    ///
    ///     SUMMARY name targets achieved% us-per-check deviation-p50-ms deviation-p99-ms
    static func summarize(name: String, targets: Int, answering: Int, interval: Double, cpu: Double, atServers: [String: Double]) {
        let requests = atServers["requests"] ?? 0
        let seconds = atServers["seconds"] ?? 1
        let achieved = 100 * requests / (Double(answering) * seconds / interval)
        print("at the servers  \(Int(requests)) checks in \(format(seconds)) s = \(format(achieved))% of the schedule; "
            + "interval between two checks of a target off the configured one by p50 "
            + "\(format(atServers["deviation-p50"] ?? 0)) ms, p99 \(format(atServers["deviation-p99"] ?? 0)) ms, "
            + "max \(format(atServers["deviation-max"] ?? 0)) ms")
        print("SUMMARY \(name) \(targets) \(format(achieved)) \(format(1e6 * cpu / max(requests, 1))) "
            + "\(format(atServers["deviation-p50"] ?? 0)) \(format(atServers["deviation-p99"] ?? 0))")
    }

    /// Targets on answering (not silent) servers.
    static func answeringTargets(_ count: Int, addresses: Int, silent: Int) -> Int {
        (0..<count).filter { 1 + $0 % addresses > silent }.count
    }

    /// The servers' figures since the last call (`GET /stats`, see ``Arrivals``), by name; empty when unreachable.
    static func serverStatistics(address: String, port: Int) -> [String: Double] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return [:] }
        defer { close(fd) }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, address, &sin.sin_addr)
        let connected = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return [:] }
        let request = Array("GET /stats HTTP/1.0\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            answer.append(contentsOf: buffer.prefix(count))
        }
        let text = String(decoding: answer, as: UTF8.self)
        guard let bodyStart = text.firstRange(of: "\r\n\r\n")?.upperBound else { return [:] }
        let words = text[bodyStart...].split(whereSeparator: { $0 == " " || $0 == "\n" })
        var figures: [String: Double] = [:]
        for index in stride(from: 0, to: words.count - 1, by: 2) {
            figures[String(words[index])] = Double(words[index + 1])
        }
        return figures
    }

    /// keepalived.conf for the same targets: target N is `real_server <its address> <its port>` with an HTTP_GET
    /// of `/t/N` expecting status 200, connect_timeout 2 (h2e's timeout), every `interval` seconds, no retry (fall 1,
    /// as h2e's). A virtual server may hold a real server once, so the targets go into virtual servers of
    /// addresses x ports each. NAT, because direct routing would make keepalived move every check to port 80.
    static func keepalivedConfiguration(targets: Int, interval: Double, addresses: Int, ports: Int, basePort: Int) -> String {
        var text = "global_defs {\n    router_id h2e-bench\n}\n"
        let perVirtual = addresses * ports
        for first in stride(from: 0, to: targets, by: perVirtual) {
            let virtual = first / perVirtual
            text += "virtual_server 10.99.\(virtual / 250).\(1 + virtual % 250) 80 {\n"
            text += "    delay_loop \(interval)\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n"
            for index in first..<min(targets, first + perVirtual) {
                text += "    real_server \(benchAddress(1 + index % addresses)) \(basePort + (index / addresses) % ports) {\n"
                text += "        HTTP_GET {\n            url {\n                path /t/\(index)\n                status_code 200\n"
                text += "            }\n            connect_timeout 2\n            retry 0\n        }\n    }\n"
            }
            text += "}\n"
        }
        return text
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

    struct BenchError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func usage() -> Never {
        print("usage: h2e-bench-healthcheck serve|check [--option value ...] (see scripts/bench-healthcheck)")
        exit(2)
    }
}
