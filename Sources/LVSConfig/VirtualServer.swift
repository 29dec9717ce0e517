import Addressing
import AgentWire

/// A `virtual NAME { ... }` block: one IPVS service and its real servers.
///
/// Defaults are Piranha's (lvsconfig.c `lvsInitVirtualServer`) except `scheduler` (h2e: lblc) and the h2e keywords.
public struct VirtualServer: Hashable, Sendable {
    public var name: String
    /// `active`: 1 to run this service. Default 0, as in Piranha: a block without `active = 1` is not run.
    public var active: Bool = false
    /// `address = IP dev[:alias]`: the VIP and where the active director puts it. Required, except with `fwmark`:
    /// a firewall-mark service matches whatever the mark rules mark, and Piranha ran it without an address (it
    /// defaulted to 0.0.0.0) while the marked site addresses were brought up by other means (KB 114327). nil then.
    public var address: InterfaceAddress?
    /// `vip_nmask`: netmask the VIP is added with.
    public var vipNetmask: Netmask?
    /// `port`: service port, by number or name. Default 80. With `fwmark` it is the port health checks use.
    public var port: UInt16 = 80
    /// `protocol`: `tcp` or `udp`. Default tcp.
    public var `protocol`: TransportProtocol = .tcp
    /// `fwmark`: a firewall-mark service instead of address/protocol/port.
    public var firewallMark: UInt32?
    /// `scheduler`: IPVS scheduler. Default lblc (h2e; Piranha's default is wlc).
    public var scheduler: Scheduler = .lblc
    /// `scheduler_flags` (h2e): the scheduler's flags, as ipvsadm's `-b` names them (`mh-fallback`, `mh-port`,
    /// `sh-fallback`, `sh-port`, `flag-1`...`flag-3`). Default none; with `scale_out = 1` and no `scheduler`, mh with
    /// mh-fallback and mh-port.
    public var schedulerFlags: Set<SchedulerFlag> = []
    /// `persistent`: persistence timeout in seconds; nil (or 0) for none.
    public var persistence: Int?
    /// `pmask`: persistence netmask; nil is a single client address (`/32`, `/128`).
    public var persistenceNetmask: Netmask?
    /// `sorry_server`: the server used while no real server is up.
    public var sorryServer: IPAddress?
    /// `client_monitor`: Piranha's monitor program (nanny); kept, unused by h2e.
    public var clientMonitor: String?
    /// `send`: bytes sent by the health check (escapes already decoded). Default nil: Piranha's
    /// `GET / HTTP/1.0\r\n\r\n` for port 80 is up to the health checker.
    public var send: String?
    /// `expect`: bytes the reply must start with, or a regex with `use_regex`; `*` accepts any reply.
    public var expect: String?
    /// `use_regex`: `expect` is a regular expression. Default 0.
    public var useRegex: Bool = false
    /// `send_program`: a program run instead of `send`/`expect` (`%h` is the server address).
    public var sendProgram: String?
    /// `timeout`: seconds a check may take (and, with `reentry`, the success count to readmit). Default 10.
    public var timeout: Int = 10
    /// `reentry`: seconds a failed server must pass checks before it is readmitted. Default 180.
    public var reentry: Int = 180
    /// `quiesce_server`: 1 sets a failed server's weight to 0 instead of removing it. Default 0.
    public var quiesceServer: Bool = false
    /// `load_monitor`: where a server's load comes from. Default none (static weights, as Piranha).
    public var loadMonitor: LoadMonitor = .none
    /// `check_interval` (h2e): seconds between health checks of each server. Default 2.
    public var checkInterval: Int = 2
    /// `fall` (h2e): consecutive failed checks before a server is taken out. Default 1 (Piranha).
    public var fall: Int = 1
    /// `panic_threshold` (h2e): percent of the real servers that must pass their checks; below it the virtual
    /// server is in panic, and servers whose checks time out (busy, not dead) stay in the table at their lowest
    /// load weight instead of being removed; a timed-out server also waits one check interval before it is
    /// removed, in case the others follow (docs/weights.md). 0 turns panic off. Default 50.
    public var panicThreshold: Int = 50
    /// `site_address = IP [IP ...]` (h2e, repeatable, fwmark only): addresses the active director puts on
    /// `site_device`, marks with `fwmark` and announces; the backup holds none of them.
    public var siteAddresses: [IPAddress] = []
    /// `site_addresses = PATH` (h2e, fwmark only): a file of more site addresses, one a line, `#` comments; a
    /// relative path is relative to lvs.cf's directory. Read by ``LVSConfigParser/parseFile(atPath:)``.
    public var siteAddressFile: String?
    /// The addresses read from ``siteAddressFile`` (empty until read).
    public var fileSiteAddresses: [IPAddress] = []
    /// `site_device` (h2e): the interface the site addresses go on; default the device of `address`.
    public var siteDevice: String?
    public var realServers: [RealServer] = []

    public init(name: String, address: InterfaceAddress?) {
        self.name = name
        self.address = address
    }

    /// The address family of the IPVS service: the VIP's; without one (a fwmark service), its real servers';
    /// IPv4 when it has neither (Piranha's 0.0.0.0).
    public var family: IPAddress.Family {
        address?.address.family ?? realServers.first?.address.family ?? .ipv4
    }

    /// Every site address: the `site_address` lines, then the `site_addresses` file's, without repeats.
    public var allSiteAddresses: [IPAddress] {
        var seen = Set(siteAddresses)
        return siteAddresses + fileSiteAddresses.filter { seen.insert($0).inserted }
    }

    /// The interface the site addresses go on: `site_device`, else the device of `address`.
    public var effectiveSiteDevice: String? { siteDevice ?? address?.device }

    /// The port a real server is reached on: its own `port`, else this service's.
    public func port(of server: RealServer) -> UInt16 { server.port ?? port }
}

/// `protocol`.
public enum TransportProtocol: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case tcp
    case udp

    /// The IP protocol number IPVS wants.
    public var number: UInt16 { self == .tcp ? 6 : 17 }
    public var description: String { rawValue }
}

/// `scheduler`: the IPVS scheduler name. Piranha knew rr wrr lc wlc lblc lblcr dh sh; h2e also takes the newer
/// kernel schedulers.
public enum Scheduler: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos

    public var description: String { rawValue }
}

/// One of the IPVS scheduler flags (`IP_VS_SVC_F_SCHED1...3`). sh and mh read the first as "fallback" (skip a
/// destination of weight 0 or overloaded and hash on) and the second as "port" (hash the source port too).
public enum SchedulerFlag: Int, Hashable, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case flag1 = 1, flag2 = 2, flag3 = 3

    /// Parses ipvsadm's names: `flag-N`, and `sh-`/`mh-` `fallback` (flag 1) and `port` (flag 2).
    public init?(name: String) {
        switch name {
        case "flag-1", "sh-fallback", "mh-fallback": self = .flag1
        case "flag-2", "sh-port", "mh-port": self = .flag2
        case "flag-3": self = .flag3
        default: return nil
        }
    }

    /// The name for `scheduler`: mh-fallback / mh-port for mh, sh-... for sh, flag-N otherwise (ipvsadm's).
    public func name(for scheduler: Scheduler) -> String {
        switch (scheduler, self) {
        case (.mh, .flag1), (.sh, .flag1): "\(scheduler)-fallback"
        case (.mh, .flag2), (.sh, .flag2): "\(scheduler)-port"
        default: "flag-\(rawValue)"
        }
    }

    public var description: String { "flag-\(rawValue)" }
    public static func < (a: SchedulerFlag, b: SchedulerFlag) -> Bool { a.rawValue < b.rawValue }
}

/// `load_monitor`.
public enum LoadMonitor: Hashable, Sendable, CustomStringConvertible {
    /// `none` (or no keyword): configured weights stay as they are.
    case none
    /// `h2e` or `h2e-in-flight`: a live figure the h2e-agent on the real server reports (h2e).
    case h2e(AgentFigure)
    /// `uptime`, `rup` or `ruptime`: Piranha's remote load probes, run through `rsh_command`.
    case remote(RemoteLoadCommand)
    /// An absolute program path, run with the server address; it prints a load figure (Piranha, h2e-piranha).
    case program(String)

    public var description: String {
        switch self {
        case .none: "none"
        case .h2e(let figure): figure.description
        case .remote(let command): command.rawValue
        case .program(let path): path
        }
    }

    /// Whether the load comes from the h2e-agent (whose pages the status page links).
    public var isAgent: Bool {
        if case .h2e = self { return true }
        return false
    }
}

/// Piranha's built-in load probes.
public enum RemoteLoadCommand: String, Hashable, Sendable, CaseIterable {
    case uptime, rup, ruptime
}
