import HostSystem

/// Runs a `send_program` check: `/bin/sh -c COMMAND` through ``ChildProcess/run(shell:environment:error:timeLimit:outputLimit:)``
/// (its own process group, stdin /dev/null, default signals, the daemon's environment), standard output captured (at
/// most `outputLimit` bytes kept), the whole group killed at the timeout. Blocking: call it on a thread pool.
enum ProgramRunner {
    static func run(_ command: String, expect: AnswerExpectation?, timeout: Duration, outputLimit: Int)
        -> HealthCheckResult
    {
        let completion: ChildProcess.Completion
        do {
            completion = try ChildProcess.run(shell: command, timeLimit: timeout, outputLimit: outputLimit)
        } catch {
            // Out of descriptors or processes here is no verdict on the server.
            if let local = LocalCheckError.classify(call: error.call, errno: error.errno, process: true) {
                return .inconclusive(local)
            }
            return .failed(.programNotStarted("\(error)"))
        }
        if completion.timedOut { return .failed(.timeout) }
        if let expect {
            return expect.makeMatcher().judge(completion.output, complete: true) == .match
                ? .passed : .failed(.unexpectedAnswer(HealthCheckFailure.excerpt(completion.output)))
        }
        switch completion.status {
        case .exited(0): return .passed
        case .exited(let code): return .failed(.programFailed(exitStatus: code))
        case .signalled(let signal): return .failed(.programKilled(signal: signal))
        case .running, .lost: return .failed(.programNotStarted(completion.status.failure ?? "lost"))
        }
    }
}
