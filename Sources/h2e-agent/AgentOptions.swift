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
        // It goes into an HTTP header: printable ASCII only.
        if let serverID, serverID.isEmpty || serverID.unicodeScalars.contains(where: { !(0x20...0x7E).contains($0.value) }) {
            throw ValidationError("--server-id must be non-empty printable ASCII (it is sent as the X-SERVER header)")
        }
    }
}
