import ArgumentParser
import Director

/// `h2e-director server drain|down|up VIRTUAL ADDRESS`: an operator override, kept (also across restarts) until
/// `up` clears it.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Override one real server: drain (weight 0), down (out of the table), up, clear.",
        discussion: """
            VIRTUAL is the virtual server's name in lvs.cf, ADDRESS a real server's address in it. drain and down \
            stay (across restarts too) until `up`, which hands the server back to its health checks; `up` on a \
            server without override forces it in whatever its health checks say, until `clear`.
            """)

    @Argument(help: "drain, down, up or clear.") var action: OverrideAction
    @Argument(help: "The virtual server's name in lvs.cf.") var virtual: String
    @Argument(help: "The real server's address.") var address: String
    @Option(name: .long, help: "The daemon's control socket.") var socket: String = ControlServer.defaultPath

    func run() async throws {
        let response = try await ControlClient.ask(
            ControlRequest(command: .override, action: action, virtual: virtual, address: address), socket: socket,
            refused: "the daemon refused")
        print(response.message ?? "done")
    }
}

extension OverrideAction: ExpressibleByArgument {}
