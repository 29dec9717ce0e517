import Addressing
import HostSystem
import ArgumentParser
import LoadAgent
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the load over HTTP: /load, /load.json, /report, /graph/<metric>.png, /rrd/<metric>.rrd.",
        discussion: """
            The load is the 1-minute load average divided by the number of CPUs. GET /load answers it on one line, \
            or 503 with the reason when the last sample is missing or older than 180 s (stale). GET /load.json: \
            {"server","time","age","stale","load","metrics":{"load1","load5","load15","cpus","cpu_util","mem_used",\
            "mem_available","tcp_established","busy_workers"},"live":{"figure","window","source","cgroup",\
            "capacity","usage","throttled","throttled_usec","cpu_pressure","in_flight"}}. live.figure is the share \
            of this server's CPU capacity (its cgroup's quota or cpuset, else the online CPUs) used over the last \
            10 s, plus the share of periods throttled (or CPU pressure): 0..2. live.in_flight is the mean over the \
            same window of the established TCP connections to the --port ports in this network namespace: the \
            webserver's requests queued or in service (directors with load_monitor = h2e-in-flight follow it per \
            CPU of capacity). /load and /load.json are rebuilt \
            once a second, so they are at most 1 s old. /report and /graph take ?period=hour|day|week|month|year; \
            graphs also ?width=200..2000&height=100..1000. Every answer carries X-SERVER: <server id>. \
            Only GET and HEAD; a request must arrive within 10 s, connections idle for 10 s are closed.
            """)

    @OptionGroup var options: AgentOptions

    @Option(help: "Address and port to listen on: ADDR:PORT, [IPV6]:PORT or PORT.")
    var listen: String = "0.0.0.0:\(LoadServer.Configuration.defaultPort)"

    @Option(name: .customLong("max-connections"), help: "Connections held at once; past it a new one replaces the one that waited longest without a request, and a 503 answers only when all are busy.")
    var maxConnections: Int = 256

    @Option(
        help: """
            The cgroup whose CPU the live figure measures: relative to the cgroup root \
            (system.slice/apache2.service) or absolute under its mount. Default: the agent's own cgroup or the \
            nearest enclosing one with a CPU quota or cpuset, else the whole machine (or container).
            """)
    var cgroup: String?

    @Option(
        name: .customLong("port"),
        help: """
            The webserver's port: its established TCP connections are live.in_flight (repeatable, or a comma list: \
            80,443). Default: none counted (in_flight null): the agent reads the whole TCP table once a second, \
            about 3 us of CPU per socket on the server.
            """)
    var ports: [String] = []

    /// `--port` values, comma lists included; the error names the first that is not a TCP port.
    func servicePorts() throws(ValidationError) -> Set<UInt16> {
        var ports: Set<UInt16> = []
        for value in self.ports.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
            guard let port = UInt16(value.filter { $0 != " " }), port > 0 else {
                throw ValidationError("--port takes TCP ports (1-65535), repeated or comma-separated (80,443); not '\(value)'")
            }
            ports.insert(port)
        }
        return ports
    }

    func validate() throws {
        _ = try servicePorts()
    }

    @Option(name: .customLong("proc-root"), help: .hidden)
    var procRoot: String = "/proc"

    @Option(name: .customLong("cgroup-root"), help: .hidden)
    var cgroupRoot: String = ""

    func run() async throws {
        JournalLogHandler.bootstrap(logLevel: options.verbose ? .debug : .info)
        let logger = Logger(label: "h2e-agent")
        guard let (host, port) = Self.parseListen(listen) else {
            logger.error("--listen must be ADDR:PORT, [IPV6]:PORT or PORT, not '\(listen)'")
            throw ExitCode.failure
        }
        let configuration = LoadServer.Configuration(
            host: host, port: port, serverID: options.resolvedServerID, directory: options.directory,
            maxConnections: max(1, maxConnections), cgroup: cgroup, procRoot: procRoot, cgroupFileRoot: cgroupRoot,
            servicePorts: try servicePorts())
        let server: LoadServer
        do {
            server = try await LoadServer.start(configuration: configuration, logger: logger)
        } catch let error as AgentError {
            logger.error("\(error)")
            throw ExitCode.failure
        } catch {
            logger.error("cannot listen on \(listen): \(error); is another process using the port?")
            throw ExitCode.failure
        }
        logger.info("serving \(options.directory) as \(configuration.serverID) on \(server.localAddress.map { "\($0)" } ?? listen)")
        switch server.cpuSource {
        case .cgroup(let measured): logger.info("live load: cgroup \(measured.version.rawValue) \(measured.path)")
        case .host: logger.info("live load: the host's /proc/stat (no cgroup file system readable)")
        }
        try await server.run()
    }

    static func parseListen(_ text: String) -> (String, Int)? {
        if let port = Int(text), (0...65535).contains(port) { return ("0.0.0.0", port) }
        return HostPort(parsing: text).map { ($0.host, $0.port) }
    }
}
