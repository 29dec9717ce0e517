import LoadFeedback
import NIOCore
import XCTest

final class AgentPoolStateTests: XCTestCase {
    final class Connection: Sendable, Equatable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        var id: ObjectIdentifier { ObjectIdentifier(self) }
        var description: String { name }
        static func == (a: Connection, b: Connection) -> Bool { a === b }
    }

    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
    var state = AgentPoolState<String, Connection>(capacity: 2, idleLimit: .seconds(6))

    func giveBack(_ key: String, _ connection: Connection, at seconds: Int64) -> [Connection] {
        state.giveBack(key, connection, id: connection.id, now: t0 + .seconds(seconds))
    }

    func testAConnectionHandedBackIsLeasedOnceForItsKey() {
        let a = Connection("a")
        XCTAssertEqual(giveBack("web1", a, at: 0), [])
        XCTAssertNil(state.lease("web2", now: t0).connection)
        XCTAssertEqual(state.lease("web1", now: t0 + .seconds(2)).connection, a)
        XCTAssertNil(state.lease("web1", now: t0 + .seconds(2)).connection, "leased: no longer idle")
    }

    func testOneIdleConnectionPerKeyTheNewerKept() {
        let a = Connection("a"), b = Connection("b")
        _ = giveBack("web1", a, at: 0)
        XCTAssertEqual(giveBack("web1", b, at: 1), [a])
        XCTAssertEqual(state.count, 1)
        XCTAssertEqual(state.lease("web1", now: t0 + .seconds(1)).connection, b)
    }

    func testBeyondTheCapacityTheLongestIdleIsClosed() {
        let a = Connection("a"), b = Connection("b"), c = Connection("c")
        _ = giveBack("web1", a, at: 0)
        _ = giveBack("web2", b, at: 1)
        XCTAssertEqual(giveBack("web3", c, at: 2), [a])
        XCTAssertEqual(state.count, 2)
    }

    func testAConnectionIdleTooLongIsNotReused() {
        let a = Connection("a")
        _ = giveBack("web1", a, at: 0)
        let leased = state.lease("web1", now: t0 + .seconds(7))
        XCTAssertNil(leased.connection)
        XCTAssertEqual(leased.expired, a)
        XCTAssertEqual(state.count, 0)
    }

    func testAClosedConnectionIsForgottenButNotAnother() {
        let a = Connection("a"), b = Connection("b")
        _ = giveBack("web1", a, at: 0)
        state.closed("web1", id: b.id)
        XCTAssertEqual(state.count, 1)
        state.closed("web1", id: a.id)
        XCTAssertEqual(state.count, 0)
    }

    func testPruneClosesServersThatLeftAndIdleTooLongAndCapsAtTheServersKept() {
        let a = Connection("a"), b = Connection("b"), c = Connection("c")
        state.capacity = 10
        _ = giveBack("web1", a, at: 0)
        _ = giveBack("web2", b, at: 5)
        _ = giveBack("web3", c, at: 5)
        let closed = state.prune(keeping: ["web1", "web2"], now: t0 + .seconds(8))
        XCTAssertEqual(Set(closed.map(\.name)), ["a", "c"])
        XCTAssertEqual(state.capacity, 2)
        XCTAssertEqual(state.lease("web2", now: t0 + .seconds(8)).connection, b)
    }

    func testCloseAllReturnsEveryConnectionAndKeepsNoneLater() {
        let a = Connection("a"), b = Connection("b")
        _ = giveBack("web1", a, at: 0)
        XCTAssertEqual(state.closeAll(), [a])
        XCTAssertEqual(giveBack("web1", b, at: 1), [b])
        XCTAssertEqual(state.count, 0)
    }
}
