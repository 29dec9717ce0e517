/// Performs ordered takeover steps, reporting each step's error without stopping the rest.
///
/// Executions are serialised: a new ``execute(_:)`` cancels the announcements still repeating from the previous one
/// (a director that gives the addresses up must stop announcing them) and starts after it ended.
public actor TakeoverExecutor<C: Clock> where C.Duration == Duration {
    private let system: any TakeoverSystem
    private let clock: C
    private var current: Task<TakeoverReport, Never>?

    public init(system: any TakeoverSystem, clock: C) {
        self.system = system
        self.clock = clock
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
        let task = Task {
            _ = await previous?.value
            return await Self.perform(steps, system: system, clock: clock)
        }
        current = task
        return task
    }

    private static func perform(_ steps: [TakeoverStep], system: any TakeoverSystem, clock: C) async -> TakeoverReport {
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
                case .announce(let vips, let count, let interval):
                    report.failures += await announceRound(1, step: step, vips, system: system)
                    guard count > 1 else { continue }
                    group.addTask {
                        var failures: [TakeoverReport.Failure] = []
                        for round in 2...count {
                            do { try await clock.sleep(for: interval) } catch { break }
                            failures += await announceRound(round, step: step, vips, system: system)
                        }
                        return failures
                    }
                }
            }
            for await failures in group { report.failures += failures }
        }
        report.cancelled = Task.isCancelled
        return report
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
