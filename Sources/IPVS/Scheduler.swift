/// An IPVS scheduler, by the name the kernel knows it (`ip_vs_<name>` is its module).
public struct Scheduler: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public static let roundRobin = Scheduler(rawValue: "rr")
    public static let weightedRoundRobin = Scheduler(rawValue: "wrr")
    public static let leastConnection = Scheduler(rawValue: "lc")
    public static let weightedLeastConnection = Scheduler(rawValue: "wlc")
    /// Locality-based least-connection: h2e's default (the h2e-piranha clusters' scheduler).
    public static let localityBasedLeastConnection = Scheduler(rawValue: "lblc")
    public static let localityBasedLeastConnectionReplication = Scheduler(rawValue: "lblcr")
    public static let destinationHashing = Scheduler(rawValue: "dh")
    public static let sourceHashing = Scheduler(rawValue: "sh")
    public static let shortestExpectedDelay = Scheduler(rawValue: "sed")
    public static let neverQueue = Scheduler(rawValue: "nq")
    public static let maglevHashing = Scheduler(rawValue: "mh")
    public static let weightedFailover = Scheduler(rawValue: "fo")
    public static let weightedOverflow = Scheduler(rawValue: "ovf")
    public static let weightedRandomTwoChoices = Scheduler(rawValue: "twos")

    /// Every scheduler Linux ships (twos since 6.2).
    public static let known: [Scheduler] = [
        .roundRobin, .weightedRoundRobin, .leastConnection, .weightedLeastConnection, .localityBasedLeastConnection,
        .localityBasedLeastConnectionReplication, .destinationHashing, .sourceHashing, .shortestExpectedDelay,
        .neverQueue, .maglevHashing, .weightedFailover, .weightedOverflow, .weightedRandomTwoChoices,
    ]

    public var isKnown: Bool { Self.known.contains(self) }

    /// The kernel module that provides this scheduler.
    public var kernelModule: String { "ip_vs_\(rawValue)" }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
