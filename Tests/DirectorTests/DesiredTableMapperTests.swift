import Addressing
import HealthCheck
import IPVS
import LVSConfig
import LoadFeedback
import XCTest

@testable import Director

final class DesiredTableMapperTests: XCTestCase {
    let web1 = RealServerID(virtual: "web", server: "web1")
    let web2 = RealServerID(virtual: "web", server: "web2")
    let m1 = RealServerID(virtual: "marked", server: "m1")
    let webKey = ServiceKey.address(.tcp, IPAddress("10.0.0.10")!, port: 80)

    func map(
        _ text: String = TestConfigurations.web, health: [RealServerID: HealthState] = [:],
        weights: [RealServerID: WeightDecision] = [:], overrides: [OverrideKey: ServerOverride] = [:]
    ) -> DesiredTable {
        DesiredTableMapper.map(
            DesiredTableMapper.Inputs(
                configuration: TestConfigurations.parse(text), health: health, weights: weights, overrides: overrides))
    }

    func weight(_ table: DesiredTable, _ key: ServiceKey, _ address: String) -> Int? {
        table.table[key]?.destinations.first { $0.address == IPAddress(address)! }?.weight
    }

    func testOneServicePerActiveVirtualWithItsSettings() {
        let desired = map()
        XCTAssertEqual(desired.table.services.map(\.key.description), ["TCP 10.0.0.10:80", "FWM 100"])
        let web = desired.table[webKey]!
        XCTAssertEqual(web.scheduler, .weightedLeastConnection)
        XCTAssertNil(web.persistence)
        XCTAssertEqual(web.destinations.map(\.id.description), ["10.0.0.2:80", "10.0.0.3:80"], "inactive server left out")
        XCTAssertEqual(web.destinations.map(\.weight), [32, 16])
        XCTAssertEqual(web.destinations.map(\.forwarding), [.directRoute, .directRoute])
        let marked = desired.table[.firewallMark(100, family: .ipv4)]!
        XCTAssertEqual(marked.scheduler, .localityBasedLeastConnection, "lblc is the default scheduler")
        XCTAssertEqual(marked.persistence, VirtualService.Persistence(timeout: 300, netmask: 0xFFFF_FF00))
        XCTAssertEqual(marked.destinations.map(\.port), [0], "fwmark destination without its own port keeps the client's")
        XCTAssertEqual(desired.servers[web1], ServerPlan(inTable: true, weight: 32, reason: "configured weight 32 (not checked yet)"))
    }

    func testForwardingFollowsNetwork() {
        for (network, method) in [("nat", ForwardingMethod.masquerade), ("tunnel", .tunnel), ("direct", .directRoute)] {
            let text = TestConfigurations.web.replacing("network = direct", with: "network = \(network)")
            XCTAssertEqual(map(text).table[webKey]?.destinations.map(\.forwarding), [method, method], network)
        }
    }

    func testUDPAndIPv6Services() {
        let text = """
            network = nat
            virtual dns {
                active = 1
                address = 2001:db8::10 eth0
                port = 53
                protocol = udp
                persistent = 60
                server d1 {
                    active = 1
                    address = 2001:db8::2
                    weight = 5
                }
            }
            virtual mark6 {
                active = 1
                address = 2001:db8::11 eth0
                fwmark = 7
                server d2 {
                    active = 1
                    address = 2001:db8::3
                    port = 8080
                }
            }
            """
        let desired = map(text)
        let dns = desired.table[.address(.udp, IPAddress("2001:db8::10")!, port: 53)]
        XCTAssertEqual(dns?.persistence, VirtualService.Persistence(timeout: 60, netmask: 128))
        XCTAssertEqual(dns?.destinations.first?.id.description, "[2001:db8::2]:53")
        XCTAssertEqual(dns?.destinations.first?.forwarding, .masquerade)
        let mark = desired.table[.firewallMark(7, family: .ipv6)]
        XCTAssertEqual(mark?.destinations.first?.port, 8080)
    }

    func testFailedServerIsRemovedWithReason() {
        let desired = map(health: [web1: .down(.timeout), web2: .up])
        XCTAssertEqual(desired.table[webKey]?.destinations.map(\.id.description), ["10.0.0.3:80"])
        XCTAssertEqual(desired.servers[web1], ServerPlan(inTable: false, weight: nil, reason: "removed: health check failed: timeout"))
        XCTAssertEqual(desired.servers[web2]?.reason, "configured weight 16")
    }

    func testQuiescedServerStaysWithWeightZero() {
        let text = TestConfigurations.web.replacing("scheduler = wlc", with: "scheduler = wlc\n    quiesce_server = 1")
        let desired = map(text, health: [web1: .down(.connectionFailed("refused")), web2: .up])
        XCTAssertEqual(weight(desired, webKey, "10.0.0.2"), 0)
        XCTAssertEqual(desired.servers[web1]?.reason, "weight 0: quiesced, health check failed: connection failure (refused)")
    }

    func testSorryServerOnlyWhenNoRealServerServes() {
        let text = TestConfigurations.web.replacing("scheduler = wlc", with: "scheduler = wlc\n    sorry_server = 10.0.0.99")
        XCTAssertNil(weight(map(text, health: [web1: .up, web2: .down(.timeout)]), webKey, "10.0.0.99"))
        let allDown = map(text, health: [web1: .down(.timeout), web2: .down(.timeout)])
        XCTAssertEqual(allDown.table[webKey]?.destinations.map(\.id.description), ["10.0.0.99:80"])
        XCTAssertEqual(weight(allDown, webKey, "10.0.0.99"), 1)
        XCTAssertEqual(allDown.sorryServersInUse, ["web"])
        let drained = map(text, overrides: [.init(virtual: "web", address: "10.0.0.2"): .drain, .init(virtual: "web", address: "10.0.0.3"): .down])
        XCTAssertEqual(weight(drained, webKey, "10.0.0.99"), 1, "a drained server takes no new connections: sorry server")
        XCTAssertEqual(weight(drained, webKey, "10.0.0.2"), 0)
    }

    func testLoadFeedbackWeightAndMaxWeight() {
        let text = TestConfigurations.web.replacing("weight = 16", with: "weight = 16\n        max_weight = 20")
        let desired = map(
            text, health: [web1: .up, web2: .up],
            weights: [
                web1: WeightDecision(weight: 27, reason: "weight 27: load 2.00/cpu vs 1.00 reference, base 32", changed: true),
                web2: WeightDecision(weight: 40, reason: "weight 40: load 0.30/cpu vs 1.00 reference, base 16", changed: true),
            ])
        XCTAssertEqual(weight(desired, webKey, "10.0.0.2"), 27)
        XCTAssertEqual(desired.servers[web1]?.reason, "weight 27: load 2.00/cpu vs 1.00 reference, base 32")
        XCTAssertEqual(weight(desired, webKey, "10.0.0.3"), 20)
        XCTAssertEqual(desired.servers[web2]?.reason, "weight 40: load 0.30/cpu vs 1.00 reference, base 16; capped at max_weight 20")
    }

    func testOverrides() {
        let key1 = OverrideKey(virtual: "web", address: "10.0.0.2")
        let key2 = OverrideKey(virtual: "web", address: "10.0.0.3")
        let desired = map(health: [web1: .up, web2: .up], overrides: [key1: .drain, key2: .down])
        XCTAssertEqual(weight(desired, webKey, "10.0.0.2"), 0)
        XCTAssertEqual(desired.servers[web1]?.reason, "weight 0: drained by the operator")
        XCTAssertNil(weight(desired, webKey, "10.0.0.3"))
        XCTAssertEqual(desired.servers[web2]?.reason, "removed: taken down by the operator")

        let forced = map(health: [web1: .down(.timeout)], overrides: [key1: .up])
        XCTAssertEqual(weight(forced, webKey, "10.0.0.2"), 32)
        XCTAssertEqual(forced.servers[web1]?.reason, "configured weight 32; forced up by the operator (health check failed: timeout)")

        let drainedAndDown = map(health: [web1: .down(.timeout)], overrides: [key1: .drain])
        XCTAssertNil(weight(drainedAndDown, webKey, "10.0.0.2"), "a failed server is out even when drained")
        XCTAssertEqual(map(overrides: [.init(virtual: "marked", address: "10.0.0.2"): .down]).servers[web1]?.inTable, true,
            "an override names its virtual server")
    }

    func testFailoverServiceConfigurationProgramsNothing() {
        let text = TestConfigurations.web.replacing("service = lvs", with: "service = fos")
        XCTAssertEqual(map(text).table, IPVSTable())
    }

    func testConfiguredTableAssumesEveryServerUp() {
        let table = DesiredTableMapper.configuredTable(TestConfigurations.parse(TestConfigurations.web))
        XCTAssertEqual(table.services.count, 2)
        XCTAssertEqual(table[webKey]?.destinations.map(\.weight), [32, 16])
    }

    func testReconcilerSeesOnlyTheWeightChange() {
        let before = map(health: [web1: .up, web2: .up]).table
        let after = map(
            health: [web1: .up, web2: .up],
            weights: [web1: WeightDecision(weight: 40, reason: "x", changed: true)]).table
        XCTAssertEqual(IPVSReconciler.changes(from: before, to: after).map(\.description),
            ["set weight 32 -> 40 for 10.0.0.2:80 in TCP 10.0.0.10:80"])
    }
}

/// Red Hat's multi-port recipe: http and https on one fwmark are one IPVS service.
final class SharedFirewallMarkMapperTests: XCTestCase {
    static let text = """
        network = direct
        virtual http {
            active = 1
            fwmark = 100
            port = 80
            server web1 {
                active = 1
                address = 10.0.1.2
                weight = 32
            }
            server web2 {
                active = 1
                address = 10.0.1.3
                weight = 32
            }
        }
        virtual https {
            active = 1
            fwmark = 100
            port = 443
            server web1 {
                active = 1
                address = 10.0.1.2
                weight = 32
            }
            server web2 {
                active = 1
                address = 10.0.1.3
                weight = 16
            }
        }

        """
    let key = ServiceKey.firewallMark(100, family: .ipv4)

    func map(health: [RealServerID: HealthState] = [:]) -> DesiredTable {
        DesiredTableMapper.map(DesiredTableMapper.Inputs(configuration: TestConfigurations.parse(Self.text), health: health))
    }

    func testOneServiceOneDestinationPerServerAtTheLowestWeight() {
        let desired = map()
        XCTAssertEqual(desired.table.services.map(\.key), [key])
        XCTAssertEqual(desired.table[key]?.destinations.map(\.id.description), ["10.0.1.2:0", "10.0.1.3:0"])
        XCTAssertEqual(desired.table[key]?.destinations.map(\.weight), [32, 16])
        XCTAssertEqual(desired.servers[RealServerID(virtual: "http", server: "web2")]?.weight, 16)
        XCTAssertTrue(
            desired.servers[RealServerID(virtual: "http", server: "web2")]?.reason.contains("weight 16 of https") == true)
    }

    func testAServerIsInOnlyWhileEveryCheckOfItPasses() {
        let desired = map(health: [
            RealServerID(virtual: "http", server: "web1"): .up,
            RealServerID(virtual: "https", server: "web1"): .down(.connectionFailed("Connection refused")),
        ])
        XCTAssertEqual(desired.table[key]?.destinations.map(\.id.description), ["10.0.1.3:0"])
        let http = desired.servers[RealServerID(virtual: "http", server: "web1")]
        XCTAssertEqual(http?.inTable, false)
        XCTAssertTrue(http?.reason.contains("shares FWM 100 with https") == true, http?.reason ?? "")
        XCTAssertEqual(desired.servers[RealServerID(virtual: "https", server: "web1")]?.inTable, false)
    }

    func testTheWholeFarmWithoutAnAddressBringsUpNoVIP() throws {
        let runtime = try RuntimeConfiguration.make(
            TestConfigurations.parse(Self.text), file: "lvs.cf", localAddresses: [:]
        ).get()
        XCTAssertEqual(runtime.virtualAddresses, [])
        XCTAssertEqual(runtime.healthTargets.count, 4, "each server is checked on each port")
        XCTAssertEqual(
            runtime.healthTargets[RealServerID(virtual: "https", server: "web1")]?.endpoint.port, 443)
    }
}
