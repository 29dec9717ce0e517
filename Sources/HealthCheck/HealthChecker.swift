import NIOCore
import NIOPosix

/// Runs checks against real servers: the I/O layer, with no decisions beyond "passed" or "failed because".
///
/// TCP and UDP checks run on non-blocking sockets (``SocketProbes``); `send_program` checks run on `threadPool` (they
/// block on the child). Every check completes within its timeout, and every error path gives a result.
public struct HealthChecker: Sendable {
    /// The most answer bytes a check reads (regex checks read up to this; prefix checks only strlen(expect)).
    public static let maximumAnswerBytes = 4_096

    public let group: any EventLoopGroup
    public let threadPool: NIOThreadPool

    /// - Parameters:
    ///   - group: the engine keeps its state on one of its loops and takes its time from it.
    ///   - threadPool: runs `send_program` checks, and the wait of a single ``run(_:against:timeout:)``.
    public init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        threadPool: NIOThreadPool = .singleton
    ) {
        self.group = group
        self.threadPool = threadPool
    }

    public func makeProbes() -> any HealthProbes { SocketProbes(threadPool: threadPool) }

    /// Runs `check` against `endpoint` alone, giving up after `timeout` (a program check also waits for its child
    /// to be reaped after the kill). Waits on a thread of `threadPool`, off the cooperative pool.
    public func run(_ check: HealthCheck, against endpoint: HealthEndpoint, timeout: Duration) async -> HealthCheckResult {
        do {
            return try await threadPool.runIfActive {
                let probes = SocketProbes(threadPool: nil)
                probes.start(check, against: endpoint, deadline: LoopInstant(.now()) + timeout, token: 0)
                var results: [ProbeResult] = []
                while results.isEmpty {
                    probes.wait()
                    probes.poll(now: LoopInstant(.now()), into: &results)
                }
                return results[0].result
            }
        } catch {
            return .failed(.programNotStarted("thread pool stopped: \(error)"))
        }
    }
}

