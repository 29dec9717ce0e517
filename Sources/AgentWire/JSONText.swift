/// JSON text without Foundation: the agent writes a small, fixed schema, and must not link Foundation for it.
public enum JSONText {
    /// A JSON string literal.
    public static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A JSON string literal, or `null`.
    public static func string(_ text: String?) -> String {
        text.map { string($0) } ?? "null"
    }

    /// A JSON number, or `null` for nil, infinity and NaN (JSON has neither). Whole numbers are written without a
    /// fraction ("4", not "4.0"); `decimals` rounds the others.
    public static func number(_ value: Double?, decimals: Int? = nil) -> String {
        guard var value, value.isFinite else { return "null" }
        if let decimals {
            var scale = 1.0
            for _ in 0..<decimals { scale *= 10 }
            value = (value * scale).rounded() / scale
        }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
