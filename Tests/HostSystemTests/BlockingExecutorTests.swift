import Dispatch
import HostSystem
import XCTest

/// An actor that blocks its thread in a system call, as the netlink clients do.
private actor Blocker {
    private let executor = BlockingExecutor(label: "h2e.test.blocker")
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    func block(entered: DispatchSemaphore, release: DispatchSemaphore) {
        entered.signal()
        release.wait()
    }

    func isOnItsExecutor() -> Bool {
        executor.checkIsolated()  // traps otherwise
        return true
    }
}

final class BlockingExecutorTests: XCTestCase {
    /// Actors on blocking executors that all block at once leave Swift's cooperative pool free: more of them than
    /// the machine has cores (the pool's width), and a task on the pool still runs.
    func testBlockedActorsDoNotHoldTheCooperativePool() {
        let blockers = (0..<(ProcessInfo.processInfo.activeProcessorCount + 2)).map { _ in Blocker() }
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        for blocker in blockers {
            Task.detached { await blocker.block(entered: entered, release: release) }
        }
        defer { for _ in blockers { release.signal() } }
        for index in blockers.indices {
            XCTAssertEqual(entered.wait(timeout: .now() + 10), .success, "blocker \(index) never ran")
        }
        let ran = DispatchSemaphore(value: 0)
        Task.detached { ran.signal() }
        XCTAssertEqual(
            ran.wait(timeout: .now() + 10), .success,
            "a task on the cooperative pool did not run while \(blockers.count) actors blocked")
    }

    func testAnActorRunsOnItsExecutor() async {
        let isolated = await Blocker().isOnItsExecutor()
        XCTAssertTrue(isolated)
    }
}
