/// Reads lvs.cf text into an `LVSConfiguration`, reporting every problem it finds in one pass.
///
/// The grammar is Piranha's (lvsconfig.c): `key = value` lines, `virtual NAME { ... }` blocks holding
/// `server NAME { ... }` blocks, and `failover NAME { ... }` blocks; see docs/lvs.cf.md for every keyword.
/// Parsing is linear in the input and the input is bounded by `maximumFileSize`, so any byte string is safe to parse.
public enum LVSConfigParser {
    /// Larger inputs are rejected at 1:1 (a real lvs.cf is a few kilobytes).
    public static let maximumFileSize = 4 * 1024 * 1024

    /// Parses `text`; diagnostics name `file`.
    public static func parse(_ text: String, file: String = "lvs.cf") -> LVSConfigParseResult {
        parse(bytes: Array(text.utf8), file: file)
    }

    /// Parses raw file contents; diagnostics name `file`.
    public static func parse(bytes: [UInt8], file: String = "lvs.cf") -> LVSConfigParseResult {
        var sink = DiagnosticSink(file: file)
        guard bytes.count <= maximumFileSize else {
            sink.error(
                SourcePosition(line: 1, column: 1),
                "file is larger than \(maximumFileSize) bytes (4 MiB), the most lvs.cf may be")
            return LVSConfigParseResult(configuration: nil, diagnostics: sink.diagnostics)
        }
        var lexer = Lexer(bytes)
        let tokens = lexer.tokenize(into: &sink)
        var parser = Parser(tokens: tokens, sink: sink)
        let configuration = parser.parseFile()
        return LVSConfigParseResult(
            configuration: parser.sink.hasErrors ? nil : configuration, diagnostics: parser.sink.diagnostics)
    }
}

/// What `LVSConfigParser` found: the configuration when there is no error, and every error and warning.
public struct LVSConfigParseResult: Hashable, Sendable {
    /// Nil when any error was found.
    public var configuration: LVSConfiguration?
    /// Errors and warnings in file order within each pass (lexing, then parsing, then cross-checks).
    public var diagnostics: [LVSDiagnostic]

    public init(configuration: LVSConfiguration?, diagnostics: [LVSDiagnostic]) {
        self.configuration = configuration
        self.diagnostics = diagnostics
    }

    public var errors: [LVSDiagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [LVSDiagnostic] { diagnostics.filter { $0.severity == .warning } }
}
