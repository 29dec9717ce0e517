/// What the director wants for one real server, and why.
public struct ServerPlan: Hashable, Sendable {
    /// Whether the server is a destination in the desired table.
    public var inTable: Bool
    /// Its weight in the table (nil when it is not in it).
    public var weight: Int?
    /// Why, as a sentence: `configured weight 32`, `weight 0: quiesced, health check failed: timeout`, ...
    public var reason: String

    public init(inTable: Bool, weight: Int?, reason: String) {
        self.inTable = inTable
        self.weight = weight
        self.reason = reason
    }

    /// In the table with a weight above 0: the server takes new connections.
    public var isServing: Bool { inTable && (weight ?? 0) > 0 }

    /// Whether both give the same table entry (in or out, and the weight), whatever their reasons say.
    public func sameEntry(as other: ServerPlan) -> Bool { inTable == other.inTable && weight == other.weight }
}
