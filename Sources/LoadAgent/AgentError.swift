/// Why an agent operation failed; each message says what to do about it.
public enum AgentError: Error, Equatable, CustomStringConvertible {
    /// A file or directory could not be read, written or created (errno text included).
    case io(operation: String, path: String, reason: String)
    /// librrd refused an operation (its message included).
    case rrd(operation: String, path: String, message: String)
    /// An RRD file exists but is not one this agent can use.
    case corruptRRD(path: String, message: String)
    /// Another sample holds the lock too long.
    case lockTimeout(path: String)
    /// A /proc file or status page could not be parsed.
    case parse(ProcParseError)
    /// Fetching the web server's status page failed.
    case statusPage(url: String, reason: String)
    /// A command-line value is not acceptable.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .io(let operation, let path, let reason):
            return "cannot \(operation) \(path): \(reason); check that the directory exists, is writable by this user "
                + "and that the disk is not full (or pass --dir)"
        case .rrd(let operation, let path, let message):
            return "librrd could not \(operation) \(path): \(message)"
        case .corruptRRD(let path, let message):
            return "\(path) is not a usable h2e RRD file (\(message)); move it aside and run 'h2e-agent sample' to "
                + "create a new one"
        case .lockTimeout(let path):
            return "another 'h2e-agent sample' has held \(path) for too long; check for a hung process (fuser \(path))"
        case .parse(let error):
            return "\(error)"
        case .statusPage(let url, let reason):
            return "cannot read busy workers from \(url): \(reason); check that the status page is enabled and "
                + "reachable from localhost, or drop --status-url"
        case .invalidArgument(let message):
            return message
        }
    }

    /// What failed without the advice about the state directory (for files that are not in it: /proc, cgroups).
    public var summary: String {
        guard case .io(let operation, let path, let reason) = self else { return description }
        return "cannot \(operation) \(path): \(reason)"
    }

    /// The description with the state directory left out (`load.rrd`, not `/var/lib/h2e/load.rrd`): what an HTTP
    /// client is told, since the agent's answers go to anyone who can reach its port.
    public func description(hiding directory: String) -> String {
        description.replacing(directory + "/", with: "").replacing(directory, with: "the state directory")
    }
}
