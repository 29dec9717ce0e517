import AgentWire
import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// Options every subcommand takes.
struct AgentOptions: ParsableArguments {
    @Option(name: .customLong("dir"), help: "State directory holding the RRD files.")
    var directory: String = "/var/lib/h2e"

    @Option(name: .customLong("server-id"), help: "This server's id in X-SERVER and reports (default: the hostname).")
    var serverID: String?

    @Flag(name: .long, help: "Log debug messages.")
    var verbose = false

    var resolvedServerID: String {
        if let serverID { return serverID }
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func validate() throws {
        // It goes into an HTTP header, and directors check it against lvs.cf's server_id.
        if let serverID, !ServerID.isValid(serverID) {
            throw ValidationError("--server-id must be \(ServerID.rule) (it is sent as the X-SERVER header)")
        }
    }
}
