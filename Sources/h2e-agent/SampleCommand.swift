import ArgumentParser
import HostSystem
import LoadAgent
import Logging

#if canImport(Glibc)
import Glibc
#endif

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Record one sample into the RRD files (run by cron every minute); creates them on first use.",
        discussion: "A second run within the same minute, or a late one, writes nothing and exits 0.")

    @OptionGroup var options: AgentOptions

    @Option(name: .customLong("port"), help: "Service port whose established TCP connections are counted (repeatable; default 80 and 443).")
    var ports: [UInt16] = []

    @Option(name: .customLong("status-url"), help: "Loopback Apache mod_status (?auto) or nginx stub_status URL for busy workers.")
    var statusURL: String?

    @Option(name: .customLong("proc-root"), help: .hidden)
    var procRoot: String = "/proc"

    func validate() throws {
        if let statusURL {
            do { _ = try StatusPageClient(url: statusURL) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() throws {
        JournalLogHandler.bootstrap(logLevel: options.verbose ? .debug : .info)
        let logger = Logger(label: "h2e-agent")
        let configuration = Sampler.Configuration(
            directory: options.directory, procRoot: procRoot, servicePorts: Set(ports.isEmpty ? [80, 443] : ports),
            statusURL: statusURL)
        do {
            switch try Sampler(configuration: configuration, logger: logger).run(now: { Int(time(nil)) }) {
            case .recorded(let sample, let created):
                if !created.isEmpty {
                    logger.info("created \(created.map(\.fileName).joined(separator: ", ")) in \(options.directory)")
                }
                logger.debug("sampled \(sample.time): load \(sample.load.map { "\($0)" } ?? "unknown")")
            case .skipped(let reason):
                logger.notice("\(reason)")
            }
        } catch {
            logger.error("\(error)")
            throw ExitCode.failure
        }
    }
}
