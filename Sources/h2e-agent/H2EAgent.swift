import ArgumentParser
import LoadAgent

@main
struct H2EAgent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "h2e-agent", abstract: "Webserver load agent: samples load into RRD files and serves it.",
        // One file per subcommand; register each here.
        subcommands: [])
}
