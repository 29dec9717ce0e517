import ArgumentParser
import IPVS

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `h2e-director list`: the kernel table read over netlink, in ipvsadm -Ln's layout or as JSON.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Print the kernel IPVS table (the layout of `ipvsadm -Ln`).")

    @Flag(name: .long, help: "Counters, as `ipvsadm -Ln --stats`.") var stats = false
    @Flag(name: .long, help: "Rates, as `ipvsadm -Ln --rate`.") var rate = false
    @Flag(name: .long, help: "The table, timeouts and sync daemons as JSON.") var json = false

    func validate() throws {
        if stats && rate { throw ValidationError("--stats and --rate exclude each other") }
    }

    func run() async throws {
        do {
            let client = try IPVSClient()
            let info = try await client.info()
            let table = try await client.table()
            if json {
                let document = IPVSDocument(
                    version: info.versionString, connectionTableSize: info.connectionTableSize, services: table.services,
                    timeouts: try await client.timeouts(), syncDaemons: try await client.syncDaemons())
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(document), as: UTF8.self))
            } else {
                let format: IPVSListing.Format = stats ? .statistics : rate ? .rates : .connections
                print(IPVSListing(format: format).render(info: info, table: table), terminator: "")
            }
        } catch let error as IPVSError {
            throw CommandFailure(String(describing: error))
        }
    }
}

/// What `list --json` prints.
struct IPVSDocument: Encodable {
    var version: String
    var connectionTableSize: UInt32
    var services: [VirtualService]
    var timeouts: IPVSTimeouts
    var syncDaemons: [SyncDaemon]
}
