import Dispatch

/// A serial executor for actors whose methods make blocking system calls (netlink requests, waits on a child).
///
/// Jobs run one at a time on a serial dispatch queue. libdispatch serves such a queue from its overcommitting
/// threads, outside the width-limited pool (one thread per core) that runs Swift's global executor, so a slow kernel
/// blocks this executor's thread only, never the health checks and heartbeats on the cooperative pool. Give an actor
/// one by holding it and returning ``asUnownedSerialExecutor()`` from `unownedExecutor`; actors that share one
/// executor call each other without a thread hop.
public final class BlockingExecutor: SerialExecutor {
    private let queue: DispatchQueue

    /// - Parameter label: names the thread in debuggers and `top -H` (e.g. "h2e.ipvs").
    public init(label: String) {
        queue = DispatchQueue(label: label)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Traps unless called from one of this executor's jobs (`assumeIsolated` and `preconditionIsolated` ask it).
    public func checkIsolated() {
        dispatchPrecondition(condition: .onQueue(queue))
    }
}
