import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Logging for the agent's commands: one line per message on stderr, `<N>`-prefixed (syslog priority) unless stderr
/// is a terminal, so journald reads the level.
public struct StderrLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String

    public init(label: String, level: Logger.Level = .info) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let priority: Int
        switch event.level {
        case .trace, .debug: priority = 7
        case .info: priority = 6
        case .notice: priority = 5
        case .warning: priority = 4
        case .error: priority = 3
        case .critical: priority = 2
        }
        // The priority prefix is for journald; a terminal gets plain lines.
        var line = (isatty(2) != 0 ? "" : "<\(priority)>") + "\(label): \(event.message)"
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        if !all.isEmpty { line += " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
        line += "\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    /// Installs the handler for the process (call once, first thing).
    public static func bootstrap(level: Logger.Level = .info) {
        LoggingSystem.bootstrap { StderrLogHandler(label: $0, level: level) }
    }
}
