import Addressing

/// One cluster change, as `h2e-director cluster ...` makes it (the KB's `lvsctl`, called by a hosting panel).
public enum LVSConfigEdit: Sendable, Hashable {
    case addServer(virtual: String, name: String, address: IPAddress, weight: Int)
    case removeServer(virtual: String, name: String)
    case addSiteAddress(virtual: String, address: IPAddress)
    case removeSiteAddress(virtual: String, address: IPAddress)
}

/// Edits lvs.cf text in place, line by line, so that what the operator wrote stays: every comment, blank line,
/// keyword order, spelling and indentation outside the lines the edit touches. A new server block goes before the
/// virtual's closing `}`, indented like the block's own lines; a removed one loses exactly its lines (comments
/// above it stay); a site address goes on a new `site_address` line after the last one (before the first server
/// block without one), or into the `site_addresses` file when the virtual has one.
public enum LVSConfigEditor {
    /// The result of an edit: the new lvs.cf text, the new site file text when the site file changed, and a
    /// sentence saying what changed.
    public struct Outcome: Sendable, Hashable {
        /// A site file's new text, by its resolved path.
        public struct SiteFile: Sendable, Hashable {
            public var path: String
            public var text: String
        }

        public var text: String
        public var siteFile: SiteFile?
        public var change: String
    }

    /// Why an edit cannot be made, saying what to do.
    public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Applies `edit` to `text` (lvs.cf as read from `file`). `configuration` is that text parsed (with its site
    /// file read); `siteFileText` reads the virtual's site file by its resolved path.
    public static func apply(
        _ edit: LVSConfigEdit, to text: String, configuration: LVSConfiguration, file: String,
        siteFileText: (String) throws -> String
    ) throws(Refusal) -> Outcome {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let layout = Layout(text: text)
        func virtualNamed(_ name: String) throws(Refusal) -> (VirtualServer, Layout.Block) {
            guard let virtual = configuration.virtualServers.first(where: { $0.name == name }),
                let block = layout.virtuals.first(where: { $0.name == name })
            else {
                throw Refusal(
                    "no virtual server '\(name)' in \(file); it has: "
                        + configuration.virtualServers.map(\.name).joined(separator: ", "))
            }
            return (virtual, block)
        }
        switch edit {
        case .addServer(let name, let server, let address, let weight):
            let (virtual, block) = try virtualNamed(name)
            if virtual.realServers.contains(where: { $0.name == server }) {
                throw Refusal("virtual '\(name)' already has a server '\(server)'; remove it first or pick another name")
            }
            if let same = virtual.realServers.first(where: { $0.address == address }) {
                throw Refusal("virtual '\(name)' already has \(address) as server '\(same.name)'")
            }
            let closing = try block.closingLineAlone(lines)
            let indent = block.indent(lines)
            let inner = indent + block.unit(lines)
            lines.insert(
                contentsOf: [
                    "\(indent)server \(server) {", "\(inner)address = \(address)", "\(inner)active = 1",
                    "\(inner)weight = \(weight)", "\(indent)}",
                ], at: closing)
            return Outcome(
                text: lines.joined(separator: "\n"), siteFile: nil,
                change: "virtual '\(name)': added server \(server) (\(address), weight \(weight))")
        case .removeServer(let name, let server):
            let (_, block) = try virtualNamed(name)
            guard let inner = block.servers.first(where: { $0.name == server }) else {
                throw Refusal(
                    "virtual '\(name)' has no server '\(server)'; it has: "
                        + block.servers.map(\.name).joined(separator: ", "))
            }
            guard inner.ownsItsLines(lines) else {
                throw Refusal("server '\(server)' shares a line with other text in \(file): edit that block by hand")
            }
            lines.removeSubrange(inner.openLine...inner.closeLine)
            return Outcome(
                text: lines.joined(separator: "\n"), siteFile: nil,
                change: "virtual '\(name)': removed server \(server) (it drains before it is deleted)")
        case .addSiteAddress(let name, let address):
            let (virtual, block) = try virtualNamed(name)
            if virtual.allSiteAddresses.contains(address) {
                throw Refusal("virtual '\(name)' already has the site address \(address)")
            }
            if let path = LVSConfigParser.siteFilePath(virtual, configPath: file) {
                let current = try read(path, siteFileText)
                let joined = current.isEmpty || current.hasSuffix("\n") ? current : current + "\n"
                return Outcome(
                    text: text, siteFile: .init(path: path, text: joined + "\(address)\n"),
                    change: "virtual '\(name)': added site address \(address) to \(path)")
            }
            let at: Int
            if let last = block.siteLines.last {
                at = last + 1
            } else if let server = block.servers.first {
                at = server.openLine
            } else {
                at = try block.closingLineAlone(lines)
            }
            let indent = block.siteLines.last.map { String(lines[$0].prefix { $0 == " " || $0 == "\t" }) } ?? block.indent(lines)
            lines.insert("\(indent)site_address = \(address)", at: at)
            return Outcome(
                text: lines.joined(separator: "\n"), siteFile: nil,
                change: "virtual '\(name)': added site address \(address)")
        case .removeSiteAddress(let name, let address):
            let (virtual, block) = try virtualNamed(name)
            for index in block.siteLines.reversed() {
                let line = lines[index]
                let (code, comment) = splitComment(line)
                guard let equals = code.firstIndex(of: "=") else { continue }
                let values = code[code.index(after: equals)...].split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard values.contains(where: { IPAddress(String($0)) == address }) else { continue }
                let kept = values.filter { IPAddress(String($0)) != address }
                if kept.isEmpty {
                    lines.remove(at: index)
                } else {
                    lines[index] = String(code[...equals]) + " " + kept.joined(separator: " ") + comment
                }
                return Outcome(
                    text: lines.joined(separator: "\n"), siteFile: nil,
                    change: "virtual '\(name)': removed site address \(address)")
            }
            if let path = LVSConfigParser.siteFilePath(virtual, configPath: file), virtual.fileSiteAddresses.contains(address) {
                let current = try read(path, siteFileText)
                var fileLines = current.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                fileLines.removeAll { line in
                    let fields = splitComment(line).code.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
                    return fields.count == 1 && IPAddress(String(fields[0])) == address
                }
                return Outcome(
                    text: text, siteFile: .init(path: path, text: fileLines.joined(separator: "\n")),
                    change: "virtual '\(name)': removed site address \(address) from \(path)")
            }
            throw Refusal("virtual '\(name)' has no site address \(address)")
        }
    }

    private static func read(_ path: String, _ reader: (String) throws -> String) throws(Refusal) -> String {
        do { return try reader(path) } catch { throw Refusal("cannot read the site file \(path): \(error)") }
    }

    /// A line cut before a `#` that starts a word (lvs.cf's trailing comments), and the comment with its blanks.
    static func splitComment(_ line: String) -> (code: Substring, comment: String) {
        var previous: Character = " "
        var inQuote: Character?
        for index in line.indices {
            let c = line[index]
            if let quote = inQuote {
                if c == quote { inQuote = nil }
            } else if c == "\"" || c == "'" {
                inQuote = c
            } else if c == "#", previous == " " || previous == "\t" {
                var start = index
                while start > line.startIndex, [" ", "\t"].contains(line[line.index(before: start)]) {
                    start = line.index(before: start)
                }
                return (line[..<start], String(line[start...]))
            }
            previous = c
        }
        return (line[...], "")
    }

    /// Where the blocks are: lines (0-based) of each virtual's opening and closing braces, its servers', and its
    /// `site_address` lines, from the lexer's tokens.
    struct Layout {
        struct Block {
            var name: String
            /// The line of the block's keyword, and of its closing brace.
            var openLine: Int
            var closeLine: Int
            /// The column (0-based) of the closing brace.
            var closeColumn: Int
            var servers: [Block] = []
            var siteLines: [Int] = []
            var firstStatementLine: Int?

            /// The closing brace's line, when nothing but blanks precede the brace there.
            func closingLineAlone(_ lines: [String]) throws(Refusal) -> Int {
                guard lines.indices.contains(closeLine),
                    lines[closeLine].prefix(closeColumn).allSatisfy({ $0 == " " || $0 == "\t" })
                else {
                    throw Refusal("the closing } of '\(name)' shares its line with other text: edit by hand")
                }
                return closeLine
            }

            /// Whether the block's first and last lines hold only the block (and a comment after its `}`).
            func ownsItsLines(_ lines: [String]) -> Bool {
                guard lines.indices.contains(openLine), lines.indices.contains(closeLine) else { return false }
                let opening = lines[openLine].drop { $0 == " " || $0 == "\t" }
                let closing = LVSConfigEditor.splitComment(lines[closeLine]).code.filter { $0 != " " && $0 != "\t" && $0 != "\r" }
                return opening.hasPrefix("server") && closing == "}"
            }

            /// The indentation of the block's statements (its first statement's, or its server blocks').
            func indent(_ lines: [String]) -> String {
                let line = firstStatementLine ?? servers.first?.openLine
                guard let line, lines.indices.contains(line) else {
                    return String(lines[openLine].prefix { $0 == " " || $0 == "\t" }) + "    "
                }
                return String(lines[line].prefix { $0 == " " || $0 == "\t" })
            }

            /// One level of indentation as the file writes it: a tab, or the block's own indentation width.
            func unit(_ lines: [String]) -> String {
                let own = indent(lines)
                let outer = String(lines[openLine].prefix { $0 == " " || $0 == "\t" })
                if own.hasPrefix("\t") || own.isEmpty { return "\t" }
                return String(repeating: " ", count: max(1, own.count - outer.count))
            }
        }

        var virtuals: [Block] = []

        init(text: String) {
            var sink = DiagnosticSink(file: "")
            var lexer = Lexer(Array(text.utf8))
            let tokens = lexer.tokenize(into: &sink)
            var stack: [Block] = []
            var depth = 0
            var index = 0
            var atLineStart = true
            while index < tokens.count {
                let token = tokens[index]
                switch token.kind {
                case .newline:
                    atLineStart = true
                    index += 1
                    continue
                case .openBrace:
                    depth += 1
                case .closeBrace:
                    if depth == stack.count, var block = stack.popLast() {
                        block.closeLine = token.position.line - 1
                        block.closeColumn = token.position.column - 1
                        if stack.isEmpty {
                            virtuals.append(block)
                        } else {
                            stack[stack.count - 1].servers.append(block)
                        }
                    }
                    depth -= 1
                case .word where atLineStart:
                    let opener = (token.text == "virtual" && depth == 0) || (token.text == "server" && depth == 1 && stack.count == 1)
                    if opener, index + 1 < tokens.count, tokens[index + 1].isValue {
                        stack.append(
                            Block(name: tokens[index + 1].text, openLine: token.position.line - 1, closeLine: -1, closeColumn: 0))
                        // The block's brace (same line or the next) raises the depth.
                        var next = index + 2
                        while next < tokens.count, tokens[next].kind == .newline { next += 1 }
                        if next < tokens.count, tokens[next].kind == .openBrace {
                            depth += 1
                            index = next + 1
                            atLineStart = false
                            continue
                        }
                    } else if stack.count == 1, depth == 1 {
                        if stack[0].firstStatementLine == nil { stack[0].firstStatementLine = token.position.line - 1 }
                        if token.text == "site_address" { stack[0].siteLines.append(token.position.line - 1) }
                    }
                default:
                    break
                }
                atLineStart = false
                index += 1
            }
        }
    }
}
