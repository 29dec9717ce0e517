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

    /// One line, with control characters and escape sequences from the file shown escaped (`\x1b`), so a
    /// diagnostic cannot drive the operator's terminal or forge log lines.
    public var description: String {
        let file = Self.escaped(self.file)
        let place = line.map { "\(file):\($0):\(column ?? 1):" } ?? "\(file):"
        let message = Self.escaped(self.message)
        return severity == .warning ? "\(place) warning: \(message)" : "\(place) \(message)"
    }

    /// `text` with C0 and C1 control characters and DEL as `\r`, `\n`, `\t` or `\xNN` / `\u{NNNN}`.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            guard isControl(scalar) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\r": out += "\\r"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                let hex = String(scalar.value, radix: 16)
                out += scalar.value < 0x100 ? "\\x" + (hex.count == 1 ? "0" + hex : hex) : "\\u{\(hex)}"
            }
        }
        return out
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
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
