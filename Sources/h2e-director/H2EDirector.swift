import ArgumentParser
import Director

@main
struct H2EDirector: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "h2e-director", abstract: "LVS director: IPVS, health checks, load feedback, failover.",
        // One file per subcommand; register each here.
        subcommands: [
            RunCommand.self, CheckConfigCommand.self, ApplyCommand.self, ListCommand.self, StatusCommand.self,
            ServerCommand.self, ClusterCommand.self, DirectorCommand.self,
        ])
}
