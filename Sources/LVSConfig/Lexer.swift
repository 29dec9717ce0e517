/// A token of lvs.cf.
struct Token: Hashable, Sendable {
    enum Kind: Hashable, Sendable {
        /// A bare word (keyword, name or value).
        case word
        /// A quoted string, escapes decoded.
        case quoted
        case equals
        case openBrace
        case closeBrace
        case newline
    }

    var kind: Kind
    /// The word or decoded string; the punctuation itself otherwise.
    var text: String
    var position: SourcePosition
    /// Bytes the token spans in the source.
    var length: Int = 1

    var isValue: Bool { kind == .word || kind == .quoted }

    /// How the token reads in a message.
    var quotedForMessage: String {
        switch kind {
        case .newline: "end of line"
        default: "'\(text)'"
        }
    }
}

/// Splits lvs.cf into tokens, line by line, as Piranha's tokenizer does, a little more tolerantly.
///
/// - Words are separated by blanks. Before a line's first `=`, `=` `{` `}` are tokens of their own even without
///   blanks (`port=80`, `virtual web{`); after it only a blank-separated `{` or `}` is punctuation, so values such as
///   `expect = a=b` stay one word, as in Piranha.
/// - `"..."` and `'...'` are strings with the escapes `\r \n \t \\ \" \'` (another backslash stays as it is). A
///   quote only opens a string at the start of a word.
/// - `#` starts a comment at the start of a line, as in Piranha, and also (h2e) where it begins a word after the
///   value of a `key = value` line or after a `{` or `}`, so `port = 80  # http` works while `expect = #1` stays
///   a value.
/// - Lines end in `\n`, `\r\n` or a lone `\r`. A leading UTF-8 byte order mark is skipped.
struct Lexer {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var lineStart = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        // A UTF-8 byte order mark (some editors write one) is not part of the first keyword.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            index = 3
            lineStart = 3
        }
    }

    /// All tokens; lexical problems go to `sink`.
    mutating func tokenize(into sink: inout DiagnosticSink) -> [Token] {
        var tokens: [Token] = []
        var sawEquals = false
        var valuesAfterEquals = 0
        var sawBrace = false
        var atLineStart = true
        while index < bytes.count {
            let byte = bytes[index]
            let position = SourcePosition(line: line, column: index - lineStart + 1)
            switch byte {
            case 0x20, 0x09, 0x0B, 0x0C:
                index += 1
            case 0x0A, 0x0D:
                index += (byte == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A) ? 2 : 1
                tokens.append(Token(kind: .newline, text: "\n", position: position))
                line += 1
                lineStart = index
                sawEquals = false
                valuesAfterEquals = 0
                sawBrace = false
                atLineStart = true
            case UInt8(ascii: "#") where atLineStart || sawBrace || valuesAfterEquals > 0:
                while index < bytes.count && bytes[index] != 0x0A && bytes[index] != 0x0D { index += 1 }
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                tokens.append(quoted(at: position, into: &sink))
                atLineStart = false
                if sawEquals { valuesAfterEquals += 1 }
            case let punctuation
            where
                (punctuation == UInt8(ascii: "=") || punctuation == UInt8(ascii: "{")
                || punctuation == UInt8(ascii: "}")) && (!sawEquals || isStandalone(at: index)):
                index += 1
                atLineStart = false
                let kind: Token.Kind =
                    byte == UInt8(ascii: "=") ? .equals : byte == UInt8(ascii: "{") ? .openBrace : .closeBrace
                if kind == .equals { sawEquals = true }
                if kind != .equals { sawBrace = true }
                tokens.append(Token(kind: kind, text: String(UnicodeScalar(byte)), position: position))
            default:
                tokens.append(word(at: position, stopAtPunctuation: !sawEquals, into: &sink))
                atLineStart = false
                if sawEquals { valuesAfterEquals += 1 }
            }
        }
        return tokens
    }

    private func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0B || byte == 0x0C }
    private func isLineEnd(_ byte: UInt8) -> Bool { byte == 0x0A || byte == 0x0D }

    /// A one-byte word at `i`: blank or line end (or the file's edge) on both sides.
    private func isStandalone(at i: Int) -> Bool {
        (i == 0 || isBlank(bytes[i - 1]) || isLineEnd(bytes[i - 1]))
            && (i + 1 == bytes.count || isBlank(bytes[i + 1]) || isLineEnd(bytes[i + 1]))
    }

    private mutating func word(at position: SourcePosition, stopAtPunctuation: Bool, into sink: inout DiagnosticSink)
        -> Token
    {
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if isBlank(byte) || isLineEnd(byte) { break }
            if stopAtPunctuation
                && (byte == UInt8(ascii: "=") || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}"))
            {
                break
            }
            index += 1
        }
        return Token(
            kind: .word, text: text(bytes[start..<index], at: position, into: &sink), position: position,
            length: index - start)
    }

    private mutating func quoted(at position: SourcePosition, into sink: inout DiagnosticSink) -> Token {
        let quote = bytes[index]
        let start = index
        index += 1
        var decoded: [UInt8] = []
        while true {
            guard index < bytes.count, !isLineEnd(bytes[index]) else {
                sink.error(position, "this string has no closing \(quote == 0x22 ? "\"" : "'") on its line")
                break
            }
            let byte = bytes[index]
            index += 1
            if byte == quote { break }
            if byte == UInt8(ascii: "\\"), index < bytes.count {
                let escaped: UInt8? =
                    switch bytes[index] {
                    case UInt8(ascii: "r"): 0x0D
                    case UInt8(ascii: "n"): 0x0A
                    case UInt8(ascii: "t"): 0x09
                    case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): bytes[index]
                    default: nil
                    }
                if let escaped {
                    decoded.append(escaped)
                    index += 1
                    continue
                }
            }
            decoded.append(byte)
        }
        return Token(
            kind: .quoted, text: text(decoded[...], at: position, into: &sink), position: position,
            length: index - start)
    }

    /// The bytes as a String; invalid UTF-8 and control characters are errors (they are kept replaced).
    private func text(_ slice: ArraySlice<UInt8>, at position: SourcePosition, into sink: inout DiagnosticSink)
        -> String
    {
        if let control = slice.first(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D || $0 == 0x7F }) {
            sink.error(position, "control character 0x\(String(control, radix: 16)) in this word; remove it")
        }
        guard let string = String(validating: slice, as: UTF8.self) else {
            sink.error(position, "this word is not valid UTF-8")
            return String(decoding: slice, as: UTF8.self)
        }
        return string
    }
}
