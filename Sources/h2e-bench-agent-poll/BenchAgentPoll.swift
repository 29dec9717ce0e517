import LoadFeedback

/// The director's side of scripts/bench-agent-load: polls one agent's /load.json with the director's own client
/// (``AgentClient``), one fetch after another as fast as they come back, for a while.
///
///   h2e-bench-agent-poll HOST PORT SECONDS reuse|new
///
/// `reuse`: through an ``AgentConnectionPool`` (one kept-alive connection, as the director polls); `new`: a new
/// connection per fetch (`Connection: close`, the director before keep-alive). Prints "FETCHES FAILED".
@main
struct BenchAgentPoll {
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard arguments.count == 4, let port = Int(arguments[1]), let seconds = Int(arguments[2]),
            ["reuse", "new"].contains(arguments[3])
        else {
            print("usage: h2e-bench-agent-poll HOST PORT SECONDS reuse|new")
            return
        }
        let pool = arguments[3] == "reuse" ? AgentConnectionPool() : nil
        let client = AgentClient(pool: pool)
        let target = AgentClient.Target(host: arguments[0], port: port)
        let clock = ContinuousClock()
        let end = clock.now + .seconds(seconds)
        var fetches = 0
        var failed = 0
        while clock.now < end {
            if case .failed = await client.fetch(target) { failed += 1 }
            fetches += 1
        }
        pool?.closeAll()
        print(fetches, failed)
    }
}
