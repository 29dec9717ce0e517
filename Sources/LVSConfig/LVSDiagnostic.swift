/// One problem found in an lvs.cf file, printed as `FILE:LINE:COLUMN: message` (warnings: `... : warning: message`).
///
/// Lines and columns start at 1; columns count bytes. A problem with the file as a whole (it cannot be read) has
/// no position and prints as `FILE: message`.
public struct LVSDiagnostic: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Hashable, Sendable {
        case error
        case warning
    }

    public var severity: Severity
    public var file: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(severity: Severity, file: String, line: Int?, column: Int?, message: String) {
        self.severity = severity
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        let place = line.map { "\(file):\($0):\(column ?? 1):" } ?? "\(file):"
        return severity == .warning ? "\(place) warning: \(message)" : "\(place) \(message)"
    }
}

/// A position in the source: 1-based line and byte column.
struct SourcePosition: Hashable, Sendable, CustomStringConvertible {
    var line: Int
    var column: Int

    var description: String { "\(line):\(column)" }
}

/// Collects diagnostics, stopping after `errorLimit` errors so that a huge garbage file stays cheap.
struct DiagnosticSink {
    let file: String
    let errorLimit: Int
    private(set) var diagnostics: [LVSDiagnostic] = []
    private(set) var errorCount = 0

    init(file: String, errorLimit: Int = 100) {
        self.file = file
        self.errorLimit = errorLimit
    }

    var hasErrors: Bool { errorCount > 0 }
    /// True once the error limit is reached: later messages are dropped, so callers may skip composing them.
    var isSaturated: Bool { errorCount >= errorLimit }

    mutating func error(_ position: SourcePosition, _ message: String) {
        errorCount += 1
        if errorCount < errorLimit {
            append(.error, position, message)
        } else if errorCount == errorLimit {
            append(.error, position, "too many errors (\(errorLimit)); stopping here")
        }
    }

    mutating func warning(_ position: SourcePosition, _ message: String) {
        guard errorCount < errorLimit, diagnostics.count < 10 * errorLimit else { return }
        append(.warning, position, message)
    }

    private mutating func append(_ severity: LVSDiagnostic.Severity, _ position: SourcePosition, _ message: String) {
        diagnostics.append(
            LVSDiagnostic(
                severity: severity, file: file, line: position.line, column: position.column, message: message))
    }
}
