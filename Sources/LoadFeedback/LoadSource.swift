import AgentWire

/// Where the director learns a real server's load: the `load_monitor` keyword of lvs.cf.
///
/// - `h2e`, `h2e-in-flight`: fetch `GET /load.json` from the server's h2e-agent (``AgentClient``) and follow its
///   CPU figure or its requests in flight (``AgentFigure``).
/// - an absolute program path: Piranha's and h2e-piranha's meaning: run it with the server's address as its only
///   argument and read a load figure from its standard output (``LoadProgram``).
/// - `rup`, `ruptime`, `rsh`, `ssh`: Piranha's remote commands, run as nanny did (`rup ADDRESS`,
///   `ssh ADDRESS uptime`), found on a fixed PATH.
/// - `none` (or no keyword): configured weights only, no feedback.
public enum LoadSource: Sendable, Hashable, CustomStringConvertible {
    case agent(AgentFigure)
    /// Run `command ADDRESS argumentsAfterAddress...`.
    case program(command: String, argumentsAfterAddress: [String])
    case none

    /// Interprets a `load_monitor` value; `nil` (keyword absent) means ``none``.
    public init(loadMonitor value: String?) throws(LoadSourceError) {
        switch value {
        case nil, "", "none":
            self = .none
        case "rsh", "ssh":
            self = .program(command: value!, argumentsAfterAddress: ["uptime"])
        case "rup", "ruptime":
            self = .program(command: value!, argumentsAfterAddress: [])
        case let path? where path.hasPrefix("/"):
            self = .program(command: path, argumentsAfterAddress: [])
        case let other?:
            guard let figure = AgentFigure(rawValue: other) else { throw LoadSourceError.unknown(other) }
            self = .agent(figure)
        }
    }

    public var description: String {
        switch self {
        case .agent(let figure): return figure.description
        case .program(let command, let rest): return ([command, "ADDRESS"] + rest).joined(separator: " ")
        case .none: return "none"
        }
    }
}

/// A `load_monitor` value h2e cannot use.
public enum LoadSourceError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknown(String)

    public var description: String {
        switch self {
        case .unknown(let value):
            return "load_monitor \"\(value)\": use h2e or h2e-in-flight (fetch from the h2e agent), none (configured weights), "
                + "rup, ruptime, rsh or ssh (as Piranha), or the absolute path of a program that prints the load "
                + "of the server whose address it gets as its argument"
        }
    }
}
