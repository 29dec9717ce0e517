import Addressing

/// The firewall marks that send the traffic of a fwmark virtual server's site addresses to its IPVS service: every
/// packet to one of ``addresses`` gets ``mark``. The active director installs them with its site addresses, the
/// backup removes them (``TakeoverStep/installMarks(_:)``).
public struct SiteMarks: Sendable, Hashable {
    public var mark: UInt32
    public var addresses: [IPAddress]

    public init(mark: UInt32, addresses: [IPAddress]) {
        self.mark = mark
        self.addresses = addresses
    }
}

/// How the marks get into the kernel: the rule text of each tool, and the shell commands that install it. One
/// table or chain of h2e's own, replaced whole each time, so installing is idempotent and never touches the
/// operator's rules.
public enum MarkRuleTool: Sendable, Hashable {
    /// `nft -f FILE`: table `inet h2e`, created, deleted and created again in one transaction (atomic).
    case nftables
    /// `iptables-restore --noflush FILE` (and ip6tables): chain `H2E-MARKS` of the mangle table, jumped to from
    /// PREROUTING; `legacy` uses the `-legacy` programs (kernels without nf_tables).
    case iptables(legacy: Bool)

    /// The nftables table and the iptables chain h2e owns.
    public static let table = "h2e"
    public static let chain = "H2E-MARKS"

    /// The files to write (name, text) and the command that installs them from `directory`; empty `marks`
    /// removes h2e's rules (a command that finds nothing to remove succeeds).
    public func plan(_ marks: [SiteMarks], directory: String) -> (files: [(name: String, text: String)], command: String) {
        switch self {
        case .nftables:
            let file = "\(directory)/marks.nft"
            return ([("marks.nft", Self.nftables(marks))], "nft -f \(shellQuoted(file))")
        case .iptables(let legacy):
            var files: [(String, String)] = []
            var commands: [String] = []
            for family in [IPAddress.Family.ipv4, .ipv6] {
                let tool = (family == .ipv4 ? "iptables" : "ip6tables") + (legacy ? "-legacy" : "")
                let chain = Self.chain
                let selected = marks.map { SiteMarks(mark: $0.mark, addresses: $0.addresses.filter { $0.family == family }) }
                    .filter { !$0.addresses.isEmpty }
                guard !selected.isEmpty else {
                    // Nothing of this family: take away what an earlier run installed (nothing there is no error;
                    // nor is a missing ip6tables module when no IPv6 site address is configured).
                    commands.append(
                        "{ while \(tool) -w -t mangle -D PREROUTING -j \(chain) 2>/dev/null; do :; done; "
                            + "\(tool) -w -t mangle -F \(chain) 2>/dev/null || true; "
                            + "\(tool) -w -t mangle -X \(chain) 2>/dev/null || true; }")
                    continue
                }
                let name = family == .ipv4 ? "marks.iptables" : "marks.ip6tables"
                files.append((name, Self.iptables(selected, prefix: family.bitCount)))
                commands.append(
                    "\(tool)-restore -w --noflush \(shellQuoted("\(directory)/\(name)")) && "
                        + "{ \(tool) -w -t mangle -C PREROUTING -j \(chain) 2>/dev/null || \(tool) -w -t mangle -I PREROUTING 1 -j \(chain); }")
            }
            return (files, commands.joined(separator: " && "))
        }
    }

    /// nftables text: one set of addresses per mark and family, one rule per set.
    static func nftables(_ marks: [SiteMarks]) -> String {
        var text = "table inet \(table)\ndelete table inet \(table)\n"
        let nonEmpty = marks.filter { !$0.addresses.isEmpty }
        guard !nonEmpty.isEmpty else { return text }
        text += "table inet \(table) {\n"
        var rules: [String] = []
        for entry in nonEmpty {
            for family in [IPAddress.Family.ipv4, .ipv6] {
                let addresses = entry.addresses.filter { $0.family == family }
                guard !addresses.isEmpty else { continue }
                let (type, match, suffix) = family == .ipv4 ? ("ipv4_addr", "ip", "4") : ("ipv6_addr", "ip6", "6")
                let set = "sites\(suffix)_\(entry.mark)"
                text += "\tset \(set) {\n\t\ttype \(type)\n\t\telements = {\n"
                text += addresses.map { "\t\t\t\($0)," }.joined(separator: "\n") + "\n\t\t}\n\t}\n"
                rules.append("\t\t\(match) daddr @\(set) meta mark set \(entry.mark)")
            }
        }
        text += "\tchain prerouting {\n\t\ttype filter hook prerouting priority mangle; policy accept;\n"
        text += rules.joined(separator: "\n") + "\n\t}\n}\n"
        return text
    }

    /// iptables-restore text for the mangle table: the chain declared (which empties it) and a rule per address.
    static func iptables(_ marks: [SiteMarks], prefix: Int) -> String {
        var lines = ["*mangle", ":\(chain) - [0:0]"]
        for entry in marks {
            for address in entry.addresses {
                lines.append("-A \(chain) -d \(address)/\(prefix) -j MARK --set-mark \(entry.mark)")
            }
        }
        lines.append("COMMIT")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `text` as one word for /bin/sh.
func shellQuoted(_ text: String) -> String {
    "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
}
