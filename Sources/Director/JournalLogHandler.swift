import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A swift-log handler for a daemon under systemd or a syslog-reading supervisor: one line per message on stderr,
/// prefixed `<N>` with the syslog priority (journald and `systemd-cat` read it), or `LEVEL ` when stderr is a
/// terminal. Metadata follows the message as `key=value`.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public let label: String
    private let priorityPrefix: Bool

    public init(label: String, logLevel: Logger.Level = .info, priorityPrefix: Bool = isatty(2) == 0) {
        self.label = label
        self.logLevel = logLevel
        self.priorityPrefix = priorityPrefix
    }

    /// Installs it for every logger of the process, once.
    public static func bootstrap(logLevel: Logger.Level) {
        LoggingSystem.bootstrap { label in JournalLogHandler(label: label, logLevel: logLevel) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The syslog priority of a level (RFC 5424 severities).
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    public func format(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?) -> String {
        let merged = metadata.merging(extra ?? [:]) { _, new in new }
        var line = priorityPrefix ? "<\(Self.priority(level))>" : "\(level.rawValue.uppercased()) "
        // One message is one line: a newline would start a bogus journal entry.
        line += "\(message)".replacing("\n", with: " | ")
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(value)"
        }
        return line + "\n"
    }

    public func log(event: LogEvent) {
        let text = format(level: event.level, message: event.message, metadata: event.metadata)
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(2, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }
}
