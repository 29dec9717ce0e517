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
        for diagnostic in result.diagnostics {
            fputs("\(diagnostic)\n", stderr)
        }
        guard let configuration = result.configuration else { throw ExitCode(1) }
        print(configuration.summary(file: config))
    }
}
