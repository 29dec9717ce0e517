/// Performs ordered takeover steps, reporting each step's error without stopping the rest.
///
/// Executions are serialised: a new ``execute(_:)`` cancels the announcements still repeating from the previous one
/// (a director that gives the addresses up must stop announcing them) and starts after it ended.
public actor TakeoverExecutor<C: Clock> where C.Duration == Duration {
    private let system: any TakeoverSystem
    private let clock: C
    private let pace: Pace
    private var current: Task<TakeoverReport, Never>?

    /// - Parameter announceRate: announcements sent per second at most (lvs.cf `announce_rate`): they go in bursts
    ///   of a hundredth of it, each followed by the pause that keeps the rate.
    public init(system: any TakeoverSystem, clock: C, announceRate: Int = 1000) {
        self.system = system
        self.clock = clock
        self.pace = Pace(rate: announceRate)
    }

    /// Bursts of announcements and the pause after each.
    struct Pace: Sendable {
        var burst: Int
        var pause: Duration

        init(rate: Int) {
            let rate = max(1, rate)
            burst = max(1, rate / 100)
            pause = .nanoseconds(Int64(burst) * 1_000_000_000 / Int64(rate))
        }
    }

    /// Runs `steps` in order and returns when all of them, including repeated announcements, are done.
    public func execute(_ steps: [TakeoverStep]) async -> TakeoverReport {
        await begin(steps).value
    }

    /// Starts `steps` after cancelling the previous execution's announcements and returns at once; the task's value
    /// is the report. Calls take effect in the order they reach the executor.
    public func begin(_ steps: [TakeoverStep]) -> Task<TakeoverReport, Never> {
        let previous = current
        previous?.cancel()
        let system = system
        let clock = clock
        let pace = pace
        let task = Task {
            _ = await previous?.value
            return await Self.perform(steps, system: system, clock: clock, pace: pace)
        }
        current = task
        return task
    }

    private static func perform(
        _ steps: [TakeoverStep], system: any TakeoverSystem, clock: C, pace: Pace
    ) async -> TakeoverReport {
        var report = TakeoverReport(steps: steps)
        await withTaskGroup(of: [TakeoverReport.Failure].self) { group in
            for step in steps {
                switch step {
                case .addAddress(let vip):
                    do { try await system.add(vip) } catch { report.failures.append(.init(step: step, message: "\(error)")) }
                case .removeAddress(let vip):
                    do { try await system.remove(vip) } catch {
                        report.failures.append(.init(step: step, message: "\(error)"))
                    }
                case .runCommand(let command):
                    do { try await system.run(command: command) } catch {
                        report.failures.append(.init(step: step, message: "\(error)"))
                    }
                case .installMarks(let marks):
                    do { try await system.install(marks: marks) } catch {
                        report.failures.append(.init(step: step, message: "\(error)"))
                    }
                case .announce(let vips, let count, let interval):
                    // The first burst (the VIPs come first) goes at once; the rest of the first round and the
                    // later rounds go paced while the following steps run.
                    let first = Array(vips.prefix(pace.burst))
                    let rest = Array(vips.dropFirst(pace.burst))
                    report.failures += await announceRound(1, step: step, first, system: system)
                    guard count > 1 || !rest.isEmpty else { continue }
                    group.addTask {
                        var failures: [TakeoverReport.Failure] = []
                        do {
                            if !rest.isEmpty {
                                try await clock.sleep(for: pace.pause)
                                failures += try await pacedRound(1, step: step, rest, system: system, clock: clock, pace: pace)
                            }
                            if count > 1 {
                                for round in 2...count {
                                    try await clock.sleep(for: interval)
                                    failures += try await pacedRound(round, step: step, vips, system: system, clock: clock, pace: pace)
                                }
                            }
                        } catch {}  // cancelled: a later execution took over
                        return failures
                    }
                }
            }
            for await failures in group { report.failures += failures }
        }
        report.cancelled = Task.isCancelled
        return report
    }

    /// One round in bursts of `pace.burst`, pausing `pace.pause` between them; throws when cancelled.
    private static func pacedRound(
        _ round: Int, step: TakeoverStep, _ vips: [VirtualAddress], system: any TakeoverSystem, clock: C, pace: Pace
    ) async throws -> [TakeoverReport.Failure] {
        var failures: [TakeoverReport.Failure] = []
        var start = 0
        while start < vips.count {
            if start > 0 { try await clock.sleep(for: pace.pause) }
            let end = min(vips.count, start + pace.burst)
            failures += await announceRound(round, step: step, Array(vips[start..<end]), system: system)
            start = end
        }
        return failures
    }

    private static func announceRound(
        _ round: Int, step: TakeoverStep, _ vips: [VirtualAddress], system: any TakeoverSystem
    ) async -> [TakeoverReport.Failure] {
        var failures: [TakeoverReport.Failure] = []
        for vip in vips {
            do { try await system.announce(vip) } catch {
                failures.append(.init(step: step, address: vip, round: round, message: "\(error)"))
            }
        }
        return failures
    }
}
