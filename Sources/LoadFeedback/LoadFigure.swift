/// Reads a load figure from a load program's standard output.
///
/// Two forms are accepted, as Piranha's nanny and h2e-piranha's programs print them:
/// - uptime's form: `... load average: 0.52, 0.58, 0.59` (also `load averages:` and rup's `load ...:`): the first
///   number after the colon that follows the word `load`, i.e. the 1-minute figure;
/// - a plain number on the first non-empty line, e.g. `0.42` (what `h2e-agent`'s `GET /load` prints).
///
/// The result is validated like every reading (``LoadReading/checked(perCPU:at:)``) by the caller.
public enum LoadFigure {
    /// The figure, or why there is none.
    public static func parse(_ output: String) -> Result<Double, LoadFailure> {
        let lowered = output.lowercased()
        if let word = lowered.firstRange(of: "load"),
            let colon = lowered[word.upperBound...].firstIndex(of: ":")
        {
            let rest = output[lowered.index(after: colon)...]
            let token = rest.drop(while: \.isWhitespace).prefix(while: { !$0.isWhitespace && $0 != "," })
            guard !token.isEmpty else { return .failure(.malformed("no number after \"load ...:\" in \(quoted(output))")) }
            return number(token, in: output)
        }
        let line = output.split(whereSeparator: \.isNewline).lazy
            .map { $0.drop(while: \.isWhitespace) }
            .first { !$0.isEmpty }
        guard let line else { return .failure(.malformed("no output")) }
        let trimmed = line.reversed().drop(while: \.isWhitespace).reversed()
        return number(Substring(trimmed), in: output)
    }

    private static func number(_ token: Substring, in output: String) -> Result<Double, LoadFailure> {
        guard let value = Double(token) else {
            return .failure(.malformed("\(quoted(String(token))) is not a number (output \(quoted(output)))"))
        }
        return .success(value)
    }

    /// The output shortened for a message.
    static func quoted(_ text: String) -> String {
        let limit = 80
        let escaped = text.count > limit ? String(text.prefix(limit)) + "..." : text
        return "\"" + escaped.replacing("\n", with: "\\n") + "\""
    }
}
