import ArgumentParser
import HostSystem
import LoadAgent
import Logging

#if canImport(Glibc)
import Glibc
#endif

extension Period: ExpressibleByArgument {}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Print current, average and maximum of every metric over a period.")

    @OptionGroup var options: AgentOptions

    @Option(help: "hour, day, week, month or year.")
    var period: Period = .day

    func run() throws {
        JournalLogHandler.bootstrap(logLevel: options.verbose ? .debug : .info)
        let logger = Logger(label: "h2e-agent")
        do {
            let report = try LoadReport.make(
                store: RRDStore(directory: options.directory), server: options.resolvedServerID, period: period,
                now: Int(time(nil)))
            print(report.text, terminator: "")
        } catch {
            logger.error("\(error)")
            throw ExitCode.failure
        }
    }
}
