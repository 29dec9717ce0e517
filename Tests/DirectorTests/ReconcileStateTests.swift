import Addressing
import IPVS
import NIOCore
import XCTest

@testable import Director

final class ReconcileStateTests: XCTestCase {
    let t0 = NIODeadline.uptimeNanoseconds(5_000_000_000)
    let key = ServiceKey.address(.tcp, IPAddress("10.0.0.10")!, port: 80)

    func table(weight: Int) -> IPVSTable {
        IPVSTable(services: [
            VirtualService(key: key, destinations: [Destination(address: IPAddress("10.0.0.2")!, port: 80, weight: weight)])
        ])
    }

    func testReadsOnceThenWorksFromWhatItWrote() {
        var state = ReconcileState(resyncInterval: .seconds(60))
        XCTAssertEqual(state.next(desired: table(weight: 1), now: t0), .readKernel, "the kernel table is adopted first")
        state.kernelRead(table(weight: 1), now: t0)
        XCTAssertEqual(state.next(desired: table(weight: 1), now: t0 + .seconds(1)), .upToDate, "existing table adopted: no flush, no change")
        guard case .apply(let changes) = state.next(desired: table(weight: 5), now: t0 + .seconds(2)) else {
            return XCTFail("expected changes")
        }
        XCTAssertEqual(changes.map(\.description), ["set weight 1 -> 5 for 10.0.0.2:80 in TCP 10.0.0.10:80"])
        state.applied(changes, desired: table(weight: 5))
        XCTAssertEqual(state.changesApplied, 1)
        XCTAssertEqual(state.next(desired: table(weight: 5), now: t0 + .seconds(3)), .upToDate, "no read: it knows what it wrote")
        XCTAssertEqual(state.next(desired: table(weight: 5), now: t0 + .seconds(60)), .readKernel, "re-read after resyncInterval")
    }

    func testFailureForgetsTheKernelTableAndCounts() {
        var state = ReconcileState()
        state.kernelRead(IPVSTable(), now: t0)
        guard case .apply(let changes) = state.next(desired: table(weight: 1), now: t0) else { return XCTFail() }
        state.failed("add service: permission denied", applied: 1)
        XCTAssertTrue(state.needsRetry)
        XCTAssertEqual(state.failures, 1)
        XCTAssertEqual(state.consecutiveFailures, 1)
        XCTAssertEqual(state.changesApplied, 1)
        XCTAssertEqual(state.next(desired: table(weight: 1), now: t0 + .seconds(1)), .readKernel, "retry starts with a fresh read")
        state.failed("again")
        XCTAssertEqual(state.consecutiveFailures, 2)
        state.kernelRead(IPVSTable(services: [VirtualService(key: key)]), now: t0 + .seconds(2))
        guard case .apply(let rest) = state.next(desired: table(weight: 1), now: t0 + .seconds(2)) else { return XCTFail() }
        XCTAssertEqual(rest.count, changes.count - 1, "only what is still missing")
        state.applied(rest, desired: table(weight: 1))
        XCTAssertFalse(state.needsRetry)
        XCTAssertEqual(state.consecutiveFailures, 0)
        XCTAssertEqual(state.failures, 2)
    }

    /// Once the kernel holds a desired table, a diff covers the services that moved since; a read makes the next
    /// diff cover the whole table again (someone may have changed any service with ipvsadm).
    func testDiffsOnlyTheServicesThatMovedWhileTheKernelHoldsTheDesiredTable() {
        let other = ServiceKey.address(.tcp, IPAddress("10.0.0.11")!, port: 80)
        func two(_ first: Int, _ second: Int) -> IPVSTable {
            IPVSTable(services: [
                VirtualService(key: key, destinations: [Destination(address: IPAddress("10.0.0.2")!, port: 80, weight: first)]),
                VirtualService(key: other, destinations: [Destination(address: IPAddress("10.0.0.3")!, port: 80, weight: second)]),
            ])
        }
        var state = ReconcileState()
        state.kernelRead(two(1, 1), now: t0)
        XCTAssertFalse(state.holdsDesired)
        // After a read, `changed` is not trusted: both services are diffed.
        guard case .apply(let all) = state.next(desired: two(2, 2), changed: [key], now: t0) else { return XCTFail() }
        XCTAssertEqual(all.count, 2)
        state.applied(all, desired: two(2, 2))
        XCTAssertTrue(state.holdsDesired)
        // Only `key` moved: `other` is not looked at (here it differs, which a real caller never lets happen).
        guard case .apply(let one) = state.next(desired: two(3, 9), changed: [key], now: t0) else { return XCTFail() }
        XCTAssertEqual(one.map(\.description), ["set weight 2 -> 3 for 10.0.0.2:80 in TCP 10.0.0.10:80"])
        XCTAssertEqual(state.next(desired: two(2, 9), changed: [], now: t0), .upToDate)
        guard case .apply(let unscoped) = state.next(desired: two(2, 9), changed: nil, now: t0) else { return XCTFail() }
        XCTAssertEqual(unscoped.count, 1, "nil: every service")
        state.failed("netlink: busy")
        state.kernelRead(two(2, 2), now: t0 + .seconds(1))
        guard case .apply(let afterRead) = state.next(desired: two(2, 9), changed: [], now: t0 + .seconds(1)) else {
            return XCTFail("a read makes the next diff whole")
        }
        XCTAssertEqual(afterRead.count, 1)
    }
}
