import ArgumentParser
import Director

/// `h2e-director director drain|resume`: take this director of a scale-out group out of the routers' ECMP set and
/// back. Kept across restarts until `resume`.
struct DirectorCommand: AsyncParsableCommand {
    enum Action: String, ExpressibleByArgument, CaseIterable {
        case drain, resume
    }

    static let configuration = CommandConfiguration(
        commandName: "director",
        abstract: "Drain this scale-out director from the routers (drain), or announce again (resume).",
        discussion: """
            With scale_out = 1: drain withdraws every address this director announces through BIRD, so the routers \
            send its flows to the other directors of the group, which carry its open connections on (mh and \
            sloppy_tcp); resume announces again. A drained director stays drained across restarts.
            """)

    @Argument(help: "drain or resume.") var action: Action
    @Option(name: .long, help: "The daemon's control socket.") var socket: String = ControlServer.defaultPath

    func run() async throws {
        let response = try await ControlClient.ask(
            ControlRequest(command: action == .drain ? .drainDirector : .resumeDirector), socket: socket,
            refused: "the daemon refused")
        print(response.message ?? "done")
    }
}
