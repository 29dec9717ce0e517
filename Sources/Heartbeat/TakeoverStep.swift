/// One action of a takeover or give-up, performed by ``TakeoverExecutor``.
public enum TakeoverStep: Sendable, Hashable, CustomStringConvertible {
    case addAddress(VirtualAddress)
    case removeAddress(VirtualAddress)
    /// Announce the addresses `count` times, `interval` apart; the first round goes at once, later rounds run
    /// while the following steps proceed.
    case announce([VirtualAddress], count: Int, interval: Duration)
    /// A shell command (`active_cmd`, `inactive_cmd`).
    case runCommand(String)
    /// Replaces h2e's firewall-mark rules with these (none: removes them).
    case installMarks([SiteMarks])

    public var description: String {
        switch self {
        case .addAddress(let vip): "add \(vip)"
        case .removeAddress(let vip): "remove \(vip)"
        case .announce(let vips, let count, let interval):
            "announce \(vips.map(\.address).joined(separator: ", ")) \(count) times every \(interval)"
        case .runCommand(let command): "run \(command)"
        case .installMarks(let marks):
            marks.isEmpty
                ? "remove the site marks"
                : "mark \(marks.reduce(0) { $0 + $1.addresses.count }) site addresses (fwmark "
                    + "\(marks.map { String($0.mark) }.joined(separator: ", ")))"
        }
    }

    /// Taking the addresses over: install the site marks (`marks`, nil when no virtual server has site
    /// addresses), add the addresses, announce them (Piranha's send_arp: 5 times, 1 s apart), run `active_cmd`.
    /// The marks go first, so that no packet to a site address reaches a director that holds it unmarked.
    public static func becomeActive(
        addresses: [VirtualAddress], marks: [SiteMarks]? = nil, command: String?, announcements: Int = 5,
        interval: Duration = .seconds(1)
    ) -> [TakeoverStep] {
        (marks.map { [.installMarks($0)] } ?? []) + addresses.map { .addAddress($0) }
            + (addresses.isEmpty || announcements < 1 ? [] : [.announce(addresses, count: announcements, interval: interval)])
            + (command.map { [.runCommand($0)] } ?? [])
    }

    /// Giving the addresses up (also at start, for addresses and marks left behind by a killed director): remove
    /// them, then the site marks when `marks` (some virtual server has site addresses), run `inactive_cmd`.
    public static func becomeBackup(addresses: [VirtualAddress], marks: Bool = false, command: String?) -> [TakeoverStep] {
        addresses.map { .removeAddress($0) } + (marks ? [.installMarks([])] : []) + (command.map { [.runCommand($0)] } ?? [])
    }
}

/// The system operations a takeover needs; ``LinuxTakeoverSystem`` is the real one.
public protocol TakeoverSystem: Sendable {
    func add(_ address: VirtualAddress) async throws
    func remove(_ address: VirtualAddress) async throws
    /// Sends one announcement (gratuitous ARP or unsolicited neighbour advertisement) for `address`.
    func announce(_ address: VirtualAddress) async throws
    func run(command: String) async throws
    /// Replaces h2e's firewall-mark rules with `marks` (empty: removes them).
    func install(marks: [SiteMarks]) async throws
}

/// The outcome of ``TakeoverExecutor/execute(_:)``: each step's failures, in order; the other steps succeeded.
public struct TakeoverReport: Sendable, Hashable {
    public struct Failure: Sendable, Hashable, CustomStringConvertible {
        public var step: TakeoverStep
        /// The address concerned, for announcements (and the round, from 1).
        public var address: VirtualAddress?
        public var round: Int?
        public var message: String

        public var description: String {
            "\(step)" + (address.map { " (\($0.address)" + (round.map { ", round \($0)" } ?? "") + ")" } ?? "")
                + ": \(message)"
        }
    }

    public var steps: [TakeoverStep] = []
    public var failures: [Failure] = []
    /// True when a later ``TakeoverExecutor/execute(_:)`` cut the announcements short.
    public var cancelled = false

    public var succeeded: Bool { failures.isEmpty }
}
