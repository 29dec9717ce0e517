import ArgumentParser
import LVSConfig

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// `h2e-director check-config`: validate lvs.cf. Exit 0 with a one-line summary (warnings on stderr), or exit 1
/// with every problem as `FILE:LINE:COLUMN: message` on stderr.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate lvs.cf: a one-line summary, or every problem as FILE:LINE:COLUMN: message.")

    @Option(name: .long, help: "The configuration file.")
    var config: String = LVSConfigParser.defaultPath

    func run() throws {
        let result = LVSConfigParser.parseFile(atPath: config)
        if !result.diagnostics.isEmpty {
            writeToStandardError(result.diagnostics.map { "\($0)\n" }.joined())
        }
        guard let configuration = result.configuration else { throw ExitCode(1) }
        if configuration.virtualServers.isEmpty {
            writeToStandardError(
                "\(LVSDiagnostic.escaped(config)): warning: declares no virtual server (empty, only comments, or cut "
                    + "short?): a running director refuses it on reload; to empty the table, set `active = 0` on each "
                    + "virtual server\n")
        }
        print(configuration.summary(file: config))
    }
}

/// Writes `text` to file descriptor 2 (the C `stderr` global is not concurrency-safe in Swift 6).
private func writeToStandardError(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        bytes = bytes.dropFirst(written)
    }
}
