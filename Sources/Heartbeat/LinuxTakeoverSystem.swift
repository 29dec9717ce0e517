import HostSystem
import NIOPosix

/// The real ``TakeoverSystem``: rtnetlink for addresses, AF_PACKET for announcements (``Announcer``), /bin/sh for
/// commands, nft or iptables-restore for the site marks.
public struct LinuxTakeoverSystem: TakeoverSystem {
    private let netlink: RouteNetlink
    private let announcer: Announcer
    private let markTool: MarkRuleTool?
    private let ruleDirectory: String

    /// - Parameters:
    ///   - arpForms: which gratuitous ARP frames an IPv4 announcement sends.
    ///   - markTool: what installs the site marks; nil: none are installed (lvs.cf `mark_rules = none`).
    ///   - ruleDirectory: where the rule files go (the state directory): the operator can read there what h2e
    ///     installed last.
    public init(
        netlink: RouteNetlink, arpForms: [AnnouncementFrame.ARPForm] = [.request], markTool: MarkRuleTool? = nil,
        ruleDirectory: String = "/var/lib/h2e-director"
    ) {
        self.netlink = netlink
        self.announcer = Announcer(netlink: netlink, arpForms: arpForms)
        self.markTool = markTool
        self.ruleDirectory = ruleDirectory
    }

    public func add(_ address: VirtualAddress) async throws {
        try await netlink.add(address)
    }

    public func remove(_ address: VirtualAddress) async throws {
        try await netlink.remove(address)
    }

    public func announce(_ address: VirtualAddress) async throws {
        try await announcer.announce(address)
    }

    public func run(command: String) async throws {
        try await ShellCommand.run(command)
    }

    public func install(marks: [SiteMarks]) async throws {
        guard let markTool else { return }
        let plan = markTool.plan(marks, directory: ruleDirectory)
        let directory = ruleDirectory
        let completion = try await NIOThreadPool.singleton.runIfActive { () throws -> ChildProcess.Completion in
            for file in plan.files {
                try AtomicFile.write(Array(file.text.utf8), to: "\(directory)/\(file.name)", mode: 0o600)
            }
            return try ChildProcess.run(
                shell: plan.command, error: .toOutput, timeLimit: .seconds(30), outputLimit: 4_096)
        }
        guard completion.status == .exited(0) else {
            let output = String(decoding: completion.output, as: UTF8.self)
                .split(separator: "\n").prefix(3).joined(separator: "; ")
            throw MarkRuleError(
                command: plan.command, status: completion.timedOut ? "ran past 30 s" : completion.status.failure ?? "failed",
                output: output)
        }
    }
}

/// The site marks could not be installed.
public struct MarkRuleError: Error, Sendable, CustomStringConvertible {
    public var command: String
    public var status: String
    public var output: String

    public var description: String {
        "installing the site marks failed (\(status)): \(output.isEmpty ? "no output" : output); the command was "
            + "\(command.prefix(200)); is the tool of mark_rules installed (nftables, iptables)?"
    }
}
