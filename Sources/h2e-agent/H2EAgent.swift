import ArgumentParser
import LoadAgent

@main
struct H2EAgent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "h2e-agent", abstract: "Webserver load agent: samples load into RRD files and serves it.",
        discussion: """
            The load directors weigh by is the 1-minute load average divided by the number of CPUs.
            State (RRD files, one per metric) lives in /var/lib/h2e unless --dir says otherwise.
            """,
        // One file per subcommand; register each here.
        subcommands: [SampleCommand.self, ServeCommand.self, ReportCommand.self])
}
