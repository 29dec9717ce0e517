import ArgumentParser
import Director
import IPVS
import LVSConfig

#if canImport(Glibc)
import Glibc
#endif

/// `h2e-director apply [--dry-run]`: make the kernel IPVS table match lvs.cf once (every real server assumed up,
/// configured weights), printing each change in words; `no changes` when it already matches. A dry run where the
/// kernel table cannot be read (no IPVS, no CAP_NET_ADMIN) prints the changes from an empty table and says so.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Make the kernel IPVS table match lvs.cf once (all servers up, configured weights).")

    @Option(name: .long, help: "The configuration file.") var config: String = LVSConfigParser.defaultPath
    @Flag(name: .long, help: "Print the changes without making them.") var dryRun = false

    func run() async throws {
        let result = LVSConfigParser.parseFile(atPath: config)
        for diagnostic in result.diagnostics { printError("\(diagnostic)") }
        guard let configuration = result.configuration else { throw ExitCode(1) }
        let desired = DesiredTableMapper.configuredTable(configuration)
        let kernel = NetlinkIPVSKernel()
        do {
            let current: IPVSTable
            do {
                current = try await kernel.table()
            } catch let error as IPVSError where dryRun && error.meansNoTableToRead {
                // A dry run is often made on a machine that is not the director (an operator's, a CI's): show what
                // a first apply would do.
                printError("dry run: the kernel table cannot be read here (\(error)); the changes from an empty table:")
                current = IPVSTable()
            }
            let changes = IPVSReconciler.changes(from: current, to: desired)
            if changes.isEmpty {
                print("no changes")
                return
            }
            for change in changes { print(change) }
            if !dryRun { try await kernel.apply(changes) }
        } catch let error as IPVSApplyError {
            throw CommandFailure("failed: \(error) (\(error.applied) changes went in)")
        } catch {
            throw CommandFailure("\(error)")
        }
    }
}

extension IPVSError {
    /// No IPVS here, or no right to read it: nothing about the configuration.
    var meansNoTableToRead: Bool {
        switch self {
        case .notAvailable, .permissionDenied: true
        default: false
        }
    }
}

/// One line on standard error (Swift 6: the `stderr` global is not concurrency-safe).
func printError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    bytes.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
}
