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
}
