/// The kernel's load averages, from /proc/loadavg ("0.20 0.18 0.12 1/80 11206").
public struct LoadAverage: Sendable, Equatable {
    public var one: Double
    public var five: Double
    public var fifteen: Double

    public init(one: Double, five: Double, fifteen: Double) {
        self.one = one
        self.five = five
        self.fifteen = fifteen
    }

    /// Parses the text of /proc/loadavg.
    public static func parse(_ text: String) throws(ProcParseError) -> LoadAverage {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        guard fields.count >= 3 else {
            throw ProcParseError(file: "loadavg", reason: "expected 3 load averages, found \(fields.count) fields")
        }
        var values: [Double] = []
        for field in fields.prefix(3) {
            guard let value = Double(field), value.isFinite, value >= 0 else {
                throw ProcParseError(file: "loadavg", reason: "'\(field)' is not a load average")
            }
            values.append(value)
        }
        return LoadAverage(one: values[0], five: values[1], fifteen: values[2])
    }
}
