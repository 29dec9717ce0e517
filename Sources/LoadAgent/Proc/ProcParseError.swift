/// A /proc file (or a status page) did not have the expected layout.
public struct ProcParseError: Error, Equatable, CustomStringConvertible {
    public var file: String
    public var reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String {
        "cannot parse \(file): \(reason)"
    }
}
