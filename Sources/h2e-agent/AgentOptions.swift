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
        if let serverID, serverID.isEmpty || serverID.contains(where: { $0.isNewline || $0 == "\r" }) {
            throw ValidationError("--server-id must be a non-empty single line")
        }
    }
}
