import IPVS

/// A request on the control socket: one JSON object on one line (`h2e-director status`, `server ...`).
public struct ControlRequest: Codable, Sendable, Hashable {
    public enum Command: String, Codable, Sendable {
        /// The status report.
        case status
        /// An operator override: `action`, `virtual`, `address`.
        case override
        /// The IPVS table as the daemon reads it from its backend.
        case table
        /// Re-read lvs.cf, as SIGHUP does, and answer whether the new configuration runs.
        case reload
        /// `scale_out`: withdraw every address from the group's routers (`director drain`).
        case drainDirector
        /// `scale_out`: announce again (`director resume`).
        case resumeDirector
    }

    public var command: Command
    public var action: OverrideAction?
    public var virtual: String?
    public var address: String?

    public init(command: Command, action: OverrideAction? = nil, virtual: String? = nil, address: String? = nil) {
        self.command = command
        self.action = action
        self.virtual = virtual
        self.address = address
    }
}

/// The answer: one JSON object on one line, then the daemon closes the connection.
public struct ControlResponse: Codable, Sendable, Hashable {
    public var ok: Bool
    public var error: String?
    public var message: String?
    public var status: StatusReport?
    public var table: IPVSTable?

    public init(
        ok: Bool, error: String? = nil, message: String? = nil, status: StatusReport? = nil, table: IPVSTable? = nil
    ) {
        self.ok = ok
        self.error = error
        self.message = message
        self.status = status
        self.table = table
    }
}

/// Why a control request failed, phrased for the operator.
public enum ControlError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownVirtual(String, known: String)
    case unknownServer(String, virtual: String, known: [String])
    case persistence(String)
    case badRequest(String)
    /// The client could not reach the daemon.
    case unreachable(path: String, String)

    public var description: String {
        switch self {
        case .unknownVirtual(let name, let known):
            "no virtual server named \(name) in the running configuration (virtual servers: \(known.isEmpty ? "none" : known))"
        case .unknownServer(let address, let virtual, let known):
            "virtual server \(virtual) has no real server \(address) (its servers: \(known.joined(separator: ", ")))"
        case .persistence(let message): message
        case .badRequest(let message): "bad request: \(message)"
        case .unreachable(let path, let why):
            "cannot reach the director at \(path): \(why) (is `h2e-director run` running, and are you root? "
                + "--socket PATH names another socket)"
        }
    }
}
