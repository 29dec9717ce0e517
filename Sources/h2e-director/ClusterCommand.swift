import Addressing
import ArgumentParser
import Director
import LVSConfig

/// `h2e-director cluster add-server|remove-server|add-address|remove-address`: one cluster change, as a hosting
/// panel makes it (KB 114327's `lvsctl`): lvs.cf edited in place (``LVSConfigEditor``), validated, written
/// atomically under a lock (``ClusterEditTransaction``), then the daemon reloads over its control socket and the
/// command prints what changed. A removed server drains before it is deleted (`drain_timeout`).
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Add or remove a real server or a site address: edit lvs.cf and reload the daemon.",
        discussion: """
            lvs.cf is edited in place: its comments, blank lines and the order of every other line are kept; a new \
            server block goes at the end of its virtual, indented like it. A second edit at the same time is \
            refused (FILE.lock), as is one whose result check-config would reject; nothing is written then. If the \
            daemon refuses the new file, the old one is put back.
            """,
        subcommands: [AddServer.self, RemoveServer.self, AddAddress.self, RemoveAddress.self])

    struct Options: ParsableArguments {
        @Option(name: .long, help: "lvs.cf to edit.") var config: String = LVSConfigParser.defaultPath
        @Option(name: .long, help: "The daemon's control socket.") var socket: String = ControlServer.defaultPath
        @Flag(name: .long, help: "Edit the file only; do not ask the daemon to reload.") var noReload = false
    }

    struct AddServer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-server", abstract: "Add a real server.")
        @Argument(help: "The virtual server's name in lvs.cf.") var virtual: String
        @Argument(help: "A name for the server block.") var name: String
        @Argument(help: "The real server's address.") var address: String
        @Option(name: .long, help: "Its weight.") var weight: Int = 1
        @OptionGroup var options: Options

        func run() async throws {
            guard let ip = IPAddress(address) else { throw CommandFailure("\(address) is not an IPv4 or IPv6 address") }
            guard (0...65535).contains(weight) else { throw CommandFailure("--weight \(weight): 0...65535") }
            try await ClusterCommand.perform(.addServer(virtual: virtual, name: name, address: ip, weight: weight), options)
        }
    }

    struct RemoveServer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove-server", abstract: "Remove a real server (it drains first: weight 0 until its connections end).")
        @Argument(help: "The virtual server's name in lvs.cf.") var virtual: String
        @Argument(help: "The server block's name.") var name: String
        @OptionGroup var options: Options

        func run() async throws {
            try await ClusterCommand.perform(.removeServer(virtual: virtual, name: name), options)
        }
    }

    /// VIRTUAL IP and the common options: the arguments of add-address and remove-address.
    struct SiteAddressArguments: ParsableArguments {
        @Argument(help: "The virtual server's name in lvs.cf.") var virtual: String
        @Argument(help: "The site address.") var address: String
        @OptionGroup var options: Options

        func perform(_ edit: (String, IPAddress) -> LVSConfigEdit) async throws {
            guard let ip = IPAddress(address) else { throw CommandFailure("\(address) is not an IPv4 or IPv6 address") }
            try await ClusterCommand.perform(edit(virtual, ip), options)
        }
    }

    struct AddAddress: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-address", abstract: "Add a site address to a fwmark virtual server.")
        @OptionGroup var arguments: SiteAddressArguments

        func run() async throws { try await arguments.perform { .addSiteAddress(virtual: $0, address: $1) } }
    }

    struct RemoveAddress: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove-address", abstract: "Remove a site address from a fwmark virtual server.")
        @OptionGroup var arguments: SiteAddressArguments

        func run() async throws { try await arguments.perform { .removeSiteAddress(virtual: $0, address: $1) } }
    }

    static func perform(_ edit: LVSConfigEdit, _ options: Options) async throws {
        let transaction: ClusterEditTransaction
        do {
            transaction = try ClusterEditTransaction(edit, path: options.config)
            try transaction.commit()
        } catch {
            throw CommandFailure("\(error)")
        }
        for warning in transaction.warnings { print(warning) }
        let written = transaction.outcome.siteFile.map { "\($0.path) rewritten" }
            ?? "\(options.config) edited in place (comments, blank lines and the other lines' order kept)"
        print("\(transaction.outcome.change); \(written)")
        guard !options.noReload else { return }
        let response: ControlResponse
        do {
            response = try await ControlClient(path: options.socket).send(ControlRequest(command: .reload))
        } catch {
            throw CommandFailure(
                "the file is written, but the daemon did not answer on \(options.socket) (\(error)): it takes the "
                    + "change at its next reload (systemctl reload h2e-director) or start")
        }
        guard response.ok else {
            do {
                try transaction.undo()
            } catch {
                throw CommandFailure("\(response.error ?? "the daemon refused the file"); putting the old file back failed too: \(error)")
            }
            throw CommandFailure("\(response.error ?? "the daemon refused the file"); the old file is back in place")
        }
        print("the daemon reloaded")
    }
}
