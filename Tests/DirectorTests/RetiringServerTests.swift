import Addressing
import IPVS
import LVSConfig
import NIOCore
import XCTest

@testable import Director

/// Graceful removal (keepalived#1228): a reload that removes a serving real server drains it at weight 0 and
/// deletes it when the kernel shows no active connection, or at `drain_timeout`.
final class RetiringServerTests: XCTestCase {
    let web2 = RealServerID(virtual: "web", server: "web2")
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
    func at(_ seconds: Int64) -> NIODeadline { t0 + .seconds(seconds) }
    let service = ServiceKey.address(.tcp, IPAddress("10.0.0.10")!, port: 80)

    /// The configuration without web2's block (and with `drain_timeout` if given).
    func withoutWeb2(drainTimeout: Int? = nil) -> LVSConfiguration {
        var text = TestConfigurations.web.replacing(
            "    server web2 {\n        active = 1\n        address = 10.0.0.3\n        weight = 16\n    }\n", with: "")
        if let drainTimeout { text = "drain_timeout = \(drainTimeout)\n" + text }
        return TestConfigurations.parse(text)
    }

    /// The kernel's table with web2 at `active` connections.
    func kernel(web2Active active: UInt32?) -> IPVSTable {
        var table = DesiredTableMapper.configuredTable(TestConfigurations.parse(TestConfigurations.web))
        let index = table.services.firstIndex { $0.key == service }!
        if let active {
            let d = table.services[index].destinations.firstIndex { $0.address == IPAddress("10.0.0.3")! }!
            table.services[index].destinations[d].activeConnections = active
        } else {
            table.services[index].destinations.removeAll { $0.address == IPAddress("10.0.0.3")! }
        }
        return table
    }

    func web2Destination(_ model: DirectorModel) -> Destination? {
        model.desired.table[service]?.destinations.first { $0.address == IPAddress("10.0.0.3")! }
    }

    func testARemovedServerDrainsAtWeightZeroUntilItsConnectionsAreOver() throws {
        var model = DirectorModel(configuration: TestConfigurations.parse(TestConfigurations.web), now: t0)
        XCTAssertEqual(web2Destination(model)?.weight, 16)
        model.reconfigure(withoutWeb2(), now: at(10))
        XCTAssertEqual(web2Destination(model)?.weight, 0, "kept at weight 0, not deleted")
        XCTAssertEqual(model.retiring[web2]?.deadline, at(310), "drain_timeout 300 s by default")
        XCTAssertEqual(
            model.desired.servers[web2]?.reason,
            "weight 0: draining, removed from lvs.cf: connections not read yet; deleted when none is left, or in 300 s")

        XCTAssertTrue(model.retiringObserved(kernel(web2Active: 3), now: at(11)).isEmpty)
        XCTAssertEqual(
            model.desired.servers[web2]?.reason,
            "weight 0: draining, removed from lvs.cf: 3 active connections; deleted when none is left, or in 299 s")
        // A second reload keeps the drain's start and deadline.
        model.reconfigure(withoutWeb2(), now: at(20))
        XCTAssertEqual(model.retiring[web2]?.deadline, at(310))
        let generation = model.tableGeneration
        let done = model.retiringObserved(kernel(web2Active: 0), now: at(30))
        XCTAssertEqual(done.map(\.1), ["no active connection left"])
        XCTAssertGreaterThan(model.tableGeneration, generation, "the table changes: the reconcile deletes it")
        XCTAssertNil(web2Destination(model))
        XCTAssertNil(model.desired.servers[web2])
    }

    func testTheDrainEndsAtItsTimeoutOrWhenTheServerComesBack() {
        var model = DirectorModel(configuration: TestConfigurations.parse(TestConfigurations.web), now: t0)
        model.reconfigure(withoutWeb2(drainTimeout: 60), now: at(10))
        XCTAssertTrue(model.retiringObserved(kernel(web2Active: 5), now: at(69)).isEmpty)
        XCTAssertEqual(model.retiringObserved(kernel(web2Active: 5), now: at(70)).map(\.1), ["drain_timeout over with 5 active connections"])
        XCTAssertNil(web2Destination(model))

        var back = DirectorModel(configuration: TestConfigurations.parse(TestConfigurations.web), now: t0)
        back.reconfigure(withoutWeb2(), now: at(10))
        back.reconfigure(TestConfigurations.parse(TestConfigurations.web), now: at(20))
        XCTAssertTrue(back.retiring.isEmpty, "configured again: no longer retiring")
        XCTAssertEqual(web2Destination(back)?.weight, 16)
    }

    func testDrainTimeoutZeroDeletesAtOnceAndAServerThatWasOutIsNotDrained() {
        var model = DirectorModel(configuration: TestConfigurations.parse(TestConfigurations.web), now: t0)
        model.reconfigure(withoutWeb2(drainTimeout: 0), now: at(10))
        XCTAssertNil(web2Destination(model))
        XCTAssertTrue(model.retiring.isEmpty)

        var down = DirectorModel(configuration: TestConfigurations.parse(TestConfigurations.web), now: t0)
        _ = down.healthChanged(web2, to: .down(.connectionFailed("Connection refused")), now: at(1))
        down.reconfigure(withoutWeb2(), now: at(10))
        XCTAssertTrue(down.retiring.isEmpty, "out of the table already: nothing to drain")
        XCTAssertEqual(
            down.retiringObserved(kernel(web2Active: nil), now: at(11)).count, 0)
    }
}
