/// One `key = value ...` line.
struct Statement {
    var keyword: Token
    /// The `=`; nil when the line lacks it.
    var equals: Token?
    var values: [Token]

    var name: String { keyword.text }
}

/// The recursive-descent parser over the lexer's tokens. Errors are reported and parsing goes on, so one pass
/// finds them all; a block that cannot be understood is skipped up to its matching `}`.
struct Parser {
    enum Item {
        case statement(Statement)
        /// `keyword args... {`
        case open(keyword: Token, arguments: [Token], brace: Token)
        case close(Token)
        case end
    }

    let tokens: [Token]
    var index = 0
    var sink: DiagnosticSink
    /// Where `heartbeat_auth = hmac-sha256` was last given (it needs a heartbeat_key).
    var hmacRequested: SourcePosition?
    /// How many failover blocks were opened, parsed well or not.
    var failoverBlocks = 0

    init(tokens: [Token], sink: DiagnosticSink) {
        self.tokens = tokens
        self.sink = sink
    }

    var current: Token? { index < tokens.count ? tokens[index] : nil }

    mutating func skipNewlines() {
        while let token = current, token.kind == .newline { index += 1 }
    }

    /// Skips the rest of the current line.
    mutating func skipLine() {
        while let token = current, token.kind != .newline { index += 1 }
    }

    /// The next item of a block. Stray `{` and `=` are reported and skipped here.
    mutating func nextItem() -> Item {
        while true {
            skipNewlines()
            guard let token = current else { return .end }
            switch token.kind {
            case .closeBrace:
                index += 1
                if let next = current, next.kind != .newline, next.kind != .closeBrace {
                    sink.error(next.position, "unexpected \(next.quotedForMessage) after '}'; put it on its own line")
                    skipLine()
                }
                return .close(token)
            case .openBrace:
                sink.error(
                    token.position, "'{' must follow 'virtual NAME', 'failover NAME' or 'server NAME' on the same line")
                index += 1
                skipBlock(openedBy: token)
            case .equals:
                sink.error(token.position, "'=' needs a keyword before it")
                skipLine()
            case .newline:
                continue
            case .word, .quoted:
                return readLine(keyword: token)
            }
        }
    }

    /// The rest of a line that starts with `keyword`: a statement, or a block opener when a `{` ends it (or stands
    /// alone on the next line after a block keyword).
    private mutating func readLine(keyword: Token) -> Item {
        index += 1
        var rest: [Token] = []
        while let token = current, token.kind != .newline, token.kind != .closeBrace {
            index += 1
            if token.kind == .openBrace {
                if let equals = rest.first, equals.kind == .equals {
                    sink.error(token.position, "unexpected '{' in the value of '\(keyword.text)'")
                    skipBlock(openedBy: token)
                    return .statement(Statement(keyword: keyword, equals: equals, values: []))
                }
                if let next = current, next.kind != .newline {
                    sink.error(next.position, "unexpected \(next.quotedForMessage) after '{'; start a new line")
                    skipLine()
                }
                return .open(keyword: keyword, arguments: rest, brace: token)
            }
            rest.append(token)
        }
        if let equals = rest.first, equals.kind == .equals {
            return .statement(Statement(keyword: keyword, equals: equals, values: Array(rest.dropFirst())))
        }
        // `virtual NAME` with the `{` alone on the next line.
        if Keyword.blockOpeners[keyword.text] != nil, current?.kind == .newline {
            var lookahead = index
            while lookahead < tokens.count, tokens[lookahead].kind == .newline { lookahead += 1 }
            if lookahead < tokens.count, tokens[lookahead].kind == .openBrace,
                lookahead + 1 == tokens.count || tokens[lookahead + 1].kind == .newline
            {
                index = lookahead + 1
                return .open(keyword: keyword, arguments: rest, brace: tokens[lookahead])
            }
        }
        return .statement(Statement(keyword: keyword, equals: nil, values: rest))
    }

    /// Skips to the `}` matching an already consumed `{`, reporting it if the file ends first.
    mutating func skipBlock(openedBy brace: Token) {
        var depth = 1
        while let token = current {
            index += 1
            if token.kind == .openBrace { depth += 1 }
            if token.kind == .closeBrace {
                depth -= 1
                if depth == 0 { return }
            }
        }
        sink.error(brace.position, "this '{' is never closed; add the missing '}'")
    }

    /// Reports a keyword that does not belong in `block`; returns true when the statement should be applied.
    /// `context` names the block in messages ("virtual 'web'").
    mutating func admit(_ keyword: Token, in block: BlockKind, context: String) -> Bool {
        guard let known = Keyword.byName[keyword.text] else {
            guard !sink.isSaturated else { return false }
            var message = "unknown keyword '\(keyword.text)' in \(context)"
            if let suggestion = Keyword.suggestion(for: keyword.text, in: block) {
                message += "; did you mean '\(suggestion)'?"
            }
            sink.error(keyword.position, message)
            return false
        }
        if known.blocks.contains(block) { return true }
        if known.ignoredIn.contains(block) {
            sink.warning(
                keyword.position,
                "'\(keyword.text)' means nothing in \(block.noun) (Piranha took it and did nothing with it); "
                    + "h2e ignores it")
            return false
        }
        let places = BlockKind.allCases.filter { known.blocks.contains($0) }.map(\.noun)
        sink.error(
            keyword.position,
            "'\(keyword.text)' belongs in \(places.joined(separator: " or ")), not in \(context)")
        return false
    }

    /// Checks the `=` of a statement, reporting its absence.
    mutating func requireEquals(_ statement: Statement) -> Bool {
        guard statement.equals == nil else { return true }
        if Keyword.blockOpeners[statement.name] != nil {
            sink.error(
                statement.keyword.position,
                "'\(statement.name)' opens a block: \(statement.name) NAME { on one line, then its keywords, then }")
            return false
        }
        let next = statement.values.first
        sink.error(
            next?.position ?? endPosition(of: statement.keyword),
            "expected '=' after '\(statement.name)'" + (next.map { ", found \($0.quotedForMessage)" } ?? ""))
        return false
    }

    /// The column just past a token (for "expected ... here" at the end of a line).
    func endPosition(of token: Token) -> SourcePosition {
        SourcePosition(line: token.position.line, column: token.position.column + token.length)
    }
}
