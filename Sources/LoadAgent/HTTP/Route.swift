/// What a request asks for: pure parsing of method and URI, no I/O.
public enum Route: Equatable, Sendable {
    case load
    case loadJSON
    case report(Period)
    case graph(Metric, Period, width: Int, height: Int)
    /// An RRD file of the state directory, by plain name (`load.rrd`).
    case rrd(String)
    case index

    /// A refusal: HTTP status and a one-line reason for the body.
    public struct Failure: Error, Equatable, Sendable {
        public var status: Int
        public var reason: String
        public init(_ status: Int, _ reason: String) {
            self.status = status
            self.reason = reason
        }
    }

    /// Longest URI accepted (the decoder bounds the request line too).
    public static let maxURILength = 2048

    /// Routes a request. Only GET and HEAD exist; the path is percent-decoded once and must then be one of the
    /// fixed forms, so `..`, encoded slashes and dots, or any other name never reach the file system.
    public static func parse(method: String, uri: String) -> Result<Route, Failure> {
        guard method == "GET" || method == "HEAD" else {
            return .failure(Failure(405, "only GET and HEAD are served"))
        }
        guard uri.utf8.count <= maxURILength else { return .failure(Failure(414, "the URI is too long")) }
        let (rawPath, rawQuery) = split(uri)
        guard let path = percentDecoded(rawPath) else {
            return .failure(Failure(400, "malformed percent-encoding in the path"))
        }
        guard let query = parseQuery(rawQuery) else {
            return .failure(Failure(400, "malformed query string"))
        }
        switch path {
        case "/": return .success(.index)
        case "/load": return .success(.load)
        case "/load.json": return .success(.loadJSON)
        case "/report":
            return period(query).map { .report($0) }
        default: break
        }
        if path.hasPrefix("/graph/") {
            let name = path.dropFirst("/graph/".count)
            guard name.hasSuffix(".png"), let metric = Metric(rawValue: String(name.dropLast(4))) else {
                return .failure(Failure(404, "no such graph; try /graph/load.png (metrics: \(metricNames))"))
            }
            switch period(query) {
            case .failure(let failure): return .failure(failure)
            case .success(let period):
                guard let width = bounded(query["width"], GraphSize.width, default: GraphSize.defaultWidth),
                    let height = bounded(query["height"], GraphSize.height, default: GraphSize.defaultHeight)
                else {
                    return .failure(
                        Failure(400, "width must be \(GraphSize.width) and height \(GraphSize.height) pixels"))
                }
                return .success(.graph(metric, period, width: width, height: height))
            }
        }
        if path.hasPrefix("/rrd/") {
            let name = String(path.dropFirst("/rrd/".count))
            guard isRRDFileName(name) else {
                return .failure(Failure(404, "no such RRD file; names are <metric>.rrd (\(metricNames))"))
            }
            return .success(.rrd(name))
        }
        return .failure(Failure(404, "not found; try /load, /load.json, /report, /graph/load.png, /rrd/load.rrd"))
    }

    /// Graphs and reports: librrd drawing or reading a long period, answered on a pool of their own.
    var isSlow: Bool {
        switch self {
        case .graph, .report: true
        case .load, .loadJSON, .rrd, .index: false
        }
    }

    static var metricNames: String { Metric.allCases.map(\.rawValue).joined(separator: ", ") }

    /// Only the metrics' own file names: no other name can be asked for.
    static func isRRDFileName(_ name: String) -> Bool {
        Metric.allCases.contains { $0.fileName == name }
    }

    static func split(_ uri: String) -> (Substring, Substring) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri[...], "") }
        return (uri[..<mark], uri[uri.index(after: mark)...])
    }

    static func period(_ query: [String: String]) -> Result<Period, Failure> {
        guard let text = query["period"] else { return .success(.day) }
        guard let period = Period(rawValue: text) else {
            return .failure(Failure(400, "period must be one of \(Period.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        return .success(period)
    }

    static func bounded(_ text: String?, _ range: ClosedRange<Int>, default value: Int) -> Int? {
        guard let text else { return value }
        guard let number = Int(text), range.contains(number) else { return nil }
        return number
    }

    static func parseQuery(_ query: Substring) -> [String: String]? {
        var result: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = percentDecoded(parts[0]), let value = percentDecoded(parts.count > 1 ? parts[1] : "")
            else { return nil }
            result[key] = value
        }
        return result
    }

    /// `text` with %XX sequences decoded; `nil` for a malformed sequence, invalid UTF-8 or a NUL byte.
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard iterator.count >= 2, let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
                else { return nil }
                iterator = iterator.dropFirst(2)
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        guard !bytes.contains(0) else { return nil }
        let string = String(decoding: bytes, as: UTF8.self)
        guard Array(string.utf8) == bytes else { return nil }
        return string
    }
}
