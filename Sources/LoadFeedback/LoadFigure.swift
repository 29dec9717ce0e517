/// Reads a load figure from a load program's standard output.
///
/// Two forms are accepted, as Piranha's nanny and h2e-piranha's programs print them:
/// - uptime's form: `... load average: 0.52, 0.58, 0.59` (also `load averages:`, rup's `load ...:` and a decimal
///   comma, `0,52, 0,58, 0,59`): the first number after the colon that follows the word `load`, i.e. the 1-minute
///   figure;
/// - a plain number on the first non-empty line, e.g. `0.42` (what `h2e-agent`'s `GET /load` prints).
///
/// The result is validated like every reading (``LoadReading/checked(perCPU:at:)``) by the caller.
public enum LoadFigure {
    /// The figure, or why there is none.
    public static func parse(_ output: String) -> Result<Double, LoadFailure> {
        // Indices of `lowered` are only valid in `lowered` (lowercasing may change lengths): parse it alone.
        let lowered = output.lowercased()
        if let word = lowered.firstRange(of: "load"),
            let colon = lowered[word.upperBound...].firstIndex(of: ":")
        {
            let rest = lowered[lowered.index(after: colon)...]
            let figures = rest.drop(while: \.isWhitespace)
            var token = figures.prefix(while: { !$0.isWhitespace && $0 != "," })
            guard !token.isEmpty else { return .failure(.malformed("no number after \"load ...:\" in \(quoted(output))")) }
            // A decimal comma (uptime in a German or French locale): "0,52, 0,58, 0,59".
            let after = figures[token.endIndex...]
            if after.first == ",", let digit = after.dropFirst().first, digit.isNumber, !token.contains(".") {
                let decimals = after.dropFirst().prefix(while: \.isNumber)
                token = Substring(token + "." + decimals)
            }
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
