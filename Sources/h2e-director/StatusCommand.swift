import ArgumentParser
import Director

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `h2e-director status [--json]`: ask the running daemon.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Role, peer, and every real server's health, load, weight and the reason for it.")

    @Option(name: .long, help: "The daemon's control socket.") var socket: String = ControlServer.defaultPath
    @Flag(name: .long, help: "The report as JSON.") var json = false

    func run() async throws {
        let response = try await ControlClient.ask(
            ControlRequest(command: .status), socket: socket, refused: "the daemon sent no status")
        guard let status = response.status else { throw CommandFailure("the daemon sent no status") }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(status), as: UTF8.self))
        } else {
            print(status.text, terminator: "")
        }
    }
}
