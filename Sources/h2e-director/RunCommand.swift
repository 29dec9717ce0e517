import Addressing
import ArgumentParser
import Director
import Heartbeat
import HostSystem
import LVSConfig
import Logging

/// `h2e-director run`: the daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "The director daemon: heartbeat, IPVS, health checks, load feedback (pulse + lvs + nanny).",
        discussion: """
            SIGTERM or SIGINT stop it (hard_shutdown = 1 removes the configured services); SIGHUP re-reads the \
            configuration (a broken file is logged and the running configuration stays).
            """)

    @Option(name: .long, help: "The configuration file.") var config: String = LVSConfigParser.defaultPath
    @Option(name: .long, help: "The control socket (status, server overrides).") var socket: String = ControlServer.defaultPath
    @Option(name: .long, help: "Where operator overrides are kept (overrides.json).") var stateDir: String = "/var/lib/h2e-director"
    @Option(name: .long, help: "Serve the status page and Prometheus metrics on ADDR:PORT (off by default).") var metrics: String?
    @Flag(name: .long, help: "Allow --metrics on a non-loopback address.") var metricsAllowRemote = false
    @Option(name: .long, help: "primary or backup: which director this is (default: the one whose address this host has).")
    var role: String?
    @Option(name: .long, help: "IPVS backend: netlink (the kernel) or memory (a table in memory, for tests).")
    var ipvs: String = "netlink"
    @Option(name: .long, help: "Log level: debug, info, notice, warning, error.") var logLevel: String = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level \(logLevel): use trace, debug, info, notice, warning, error or critical")
        }
        guard let backend = DirectorDaemon.Options.Backend(rawValue: ipvs) else {
            throw ValidationError("--ipvs \(ipvs): use netlink or memory")
        }
        var configuredRole: ConfiguredRole?
        switch role {
        case nil: break
        case "primary": configuredRole = .primary
        case "backup": configuredRole = .backup
        case let other?: throw ValidationError("--role \(other): use primary or backup")
        }
        let listen: ListenAddress?
        do {
            listen = try metrics.map { try ListenAddress.parse($0, allowRemote: metricsAllowRemote) }
        } catch {
            throw ValidationError("\(error)")
        }
        JournalLogHandler.bootstrap(logLevel: level)
        let logger = Logger(label: "h2e.director")
        do {
            try await DirectorDaemon.run(
                .init(
                    configFile: config, socketPath: socket, stateDirectory: stateDir, metrics: listen,
                    role: configuredRole, backend: backend),
                logger: logger)
        } catch let error as DirectorStartError {
            for line in "\(error)".split(separator: "\n") { printError(String(line)) }
            throw ExitCode(1)
        }
    }
}
