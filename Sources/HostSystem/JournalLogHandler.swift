import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The swift-log handler of every h2e process (the director daemon, the agent's commands): one line per message on
/// stderr, for systemd's journal, cron's mail or a terminal.
///
/// A line is `<N>message key=value ...` with `N` the syslog priority of the level (journald and `systemd-cat` read
/// it), or `LEVEL message key=value ...` when stderr is a terminal. The message's own newlines become ` | ` (a newline
/// would start a bogus journal entry); metadata, the handler's merged with the message's (the message's wins), follows
/// in key order. The label is not written: journald already records the process (`SYSLOG_IDENTIFIER`), cron names the
/// command, and each program logs under one label. Each line is one `write(2)` (the rest retried after a partial
/// write), so the lines of concurrent loggers do not interleave.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public let label: String
    private let priorityPrefix: Bool

    /// - Parameter priorityPrefix: `<N>` (true) or `LEVEL ` (false) before each message; by default `<N>` unless
    ///   stderr is a terminal.
    public init(label: String, logLevel: Logger.Level = .info, priorityPrefix: Bool = isatty(2) == 0) {
        self.label = label
        self.logLevel = logLevel
        self.priorityPrefix = priorityPrefix
    }

    /// Installs it for every logger of the process; call once, before the first log (as `LoggingSystem.bootstrap`).
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

    /// The line ``log(event:)`` writes, newline included.
    public func format(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?) -> String {
        let merged = metadata.merging(extra ?? [:]) { _, new in new }
        var line = priorityPrefix ? "<\(Self.priority(level))>" : "\(level.rawValue.uppercased()) "
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
                // Nowhere to report a failing stderr: the line is dropped.
                if n <= 0 { return }
                offset += n
            }
        }
    }
}
