import Foundation
import TestSupport
import XCTest

@testable import Heartbeat

/// The VIP takeover against the real kernel: rtnetlink on one end of a veth pair, the other end in a network
/// namespace that plays the LAN.
final class TakeoverNamespaceTests: XCTestCase {
    var fixture: VethFixture!

    override func setUpWithError() throws {
        fixture = try VethFixture.make(tag: "t")
    }

    override func tearDown() {
        fixture?.tearDown()
    }

    func vip(_ host: Int, alias: String? = nil) throws -> VirtualAddress {
        try VirtualAddress(address: "10.213.\(fixture.subnet).\(host) \(fixture.local)\(alias.map { ":" + $0 } ?? "")")
    }

    func vip6(_ host: Int) throws -> VirtualAddress {
        try VirtualAddress(address: "fd00:213:\(fixture.subnet)::\(host) \(fixture.local)")
    }

    func testAddAndRemoveAddressesWithLabel() async throws {
        let netlink = try RouteNetlink()
        let labelled = try vip(100, alias: "1")
        let v6 = try vip6(100)
        let wide = try VirtualAddress(address: "10.213.\(fixture.subnet).101 \(fixture.local)", netmask: "255.255.255.0")

        let added = try await netlink.add(labelled)
        XCTAssertTrue(added)
        let again = try await netlink.add(labelled)
        XCTAssertFalse(again, "adding twice reports the address as already there")
        try await netlink.add(v6)
        try await netlink.add(wide)
        var shown = try fixture.localAddresses()
        XCTAssertTrue(shown.contains("inet 10.213.\(fixture.subnet).100/32 scope global \(fixture.local):1"), shown)
        XCTAssertTrue(shown.contains("inet 10.213.\(fixture.subnet).101/24"), shown)
        let v6Line = shown.split(separator: "\n").first { $0.contains("fd00:213:\(fixture.subnet)::100/128") }
        XCTAssertNotNil(v6Line, shown)
        XCTAssertFalse(v6Line?.contains("tentative") ?? true, "no duplicate address detection: usable at once")

        for address in [labelled, v6, wide] {
            let removed = try await netlink.remove(address)
            XCTAssertTrue(removed, "\(address)")
            let absent = try await netlink.remove(address)
            XCTAssertFalse(absent, "removing an absent address is not an error")
        }
        shown = try fixture.localAddresses()
        XCTAssertFalse(shown.contains("10.213.\(fixture.subnet).10"), shown)
        XCTAssertFalse(shown.contains("fd00:213"), shown)
    }

    func testUnknownInterfaceIsAClearError() async throws {
        let netlink = try RouteNetlink()
        do {
            try await netlink.add(try VirtualAddress(address: "10.213.0.1 h2enonexist0"))
            XCTFail("must throw")
        } catch {
            XCTAssertEqual(error as? RouteNetlinkError, .noSuchInterface("h2enonexist0"))
        }
        let info = try await netlink.interface(named: fixture.local)
        XCTAssertEqual(info.mac.map { String(format: "%02x", $0) }.joined(separator: ":"), try fixture.localMAC())
        XCTAssertTrue(info.isUp)
    }

    func testGratuitousARPTeachesThePeerOurMAC() async throws {
        for form in [AnnouncementFrame.ARPForm.request, .reply] {
            let address = try vip(form == .request ? 110 : 111)
            let system = LinuxTakeoverSystem(netlink: try RouteNetlink(), arpForms: [form])
            try await system.add(address)
            XCTAssertEqual(try fixture.peerNeighbour(address.address), "", "the peer knows nothing yet")
            try await system.announce(address)
            let mac = try fixture.localMAC()
            let learned = try await eventually { try self.fixture.peerNeighbour(address.address).contains("lladdr \(mac)") }
            let entry = try fixture.peerNeighbour(address.address)
            XCTAssertTrue(learned, "\(form): peer has \(entry)")
        }
    }

    func testNeighbourAdvertisementOverridesThePeersEntry() async throws {
        let address = try vip6(120)
        let system = LinuxTakeoverSystem(netlink: try RouteNetlink())
        try await system.add(address)
        // The peer still points at the old owner (another MAC), as after a failover.
        try shell("ip netns exec \(fixture.namespace) ip -6 neigh replace \(address.address) lladdr 02:00:00:00:00:01 dev \(fixture.remote) nud stale")
        XCTAssertTrue(try fixture.peerNeighbour(address.address).contains("lladdr 02:00:00:00:00:01"))
        try await system.announce(address)
        let mac = try fixture.localMAC()
        let learned = try await eventually { try self.fixture.peerNeighbour(address.address).contains("lladdr \(mac)") }
        let entry = try fixture.peerNeighbour(address.address)
        XCTAssertTrue(learned, "peer has \(entry)")
    }

    func testTakeoverAndGiveUpThroughTheExecutor() async throws {
        let marker = NSTemporaryDirectory() + "h2e-hb-takeover-\(getpid())"
        defer { unlink(marker) }
        let addresses = [try vip(130, alias: "7"), try vip6(130)]
        let broken = try VirtualAddress(address: "10.213.\(fixture.subnet).131 h2enonexist0")
        let executor = TakeoverExecutor(system: LinuxTakeoverSystem(netlink: try RouteNetlink()), clock: ContinuousClock())

        let up = await executor.execute(
            TakeoverStep.becomeActive(
                addresses: [broken] + addresses, command: "echo active > \(marker)", announcements: 2,
                interval: .milliseconds(50)))
        // The broken address fails (add and both announcement rounds); everything else happened.
        XCTAssertEqual(up.failures.count, 3, "\(up.failures)")
        XCTAssertTrue(up.failures.allSatisfy { $0.description.contains("h2enonexist0") }, "\(up.failures)")
        XCTAssertEqual(try String(contentsOfFile: marker, encoding: .utf8), "active\n")
        var shown = try fixture.localAddresses()
        XCTAssertTrue(shown.contains("10.213.\(fixture.subnet).130/32 scope global \(fixture.local):7"), shown)
        XCTAssertTrue(shown.contains("fd00:213:\(fixture.subnet)::130/128"), shown)
        let mac = try fixture.localMAC()
        let learned = try await eventually { try self.fixture.peerNeighbour(addresses[0].address).contains(mac) }
        XCTAssertTrue(learned)

        let down = await executor.execute(TakeoverStep.becomeBackup(addresses: addresses, command: "echo backup > \(marker)"))
        XCTAssertTrue(down.succeeded, "\(down.failures)")
        XCTAssertEqual(try String(contentsOfFile: marker, encoding: .utf8), "backup\n")
        shown = try fixture.localAddresses()
        XCTAssertFalse(shown.contains("10.213.\(fixture.subnet).130"), shown)
        XCTAssertFalse(shown.contains("fd00:213:\(fixture.subnet)::130"), shown)
    }

    func testStartingBackupRemovesLeftoverAddresses() async throws {
        // A director killed with -9 leaves its VIP behind.
        let leftover = try vip(140, alias: "3")
        try shell("ip addr add \(leftover.address)/32 dev \(fixture.local) label \(fixture.local):3")
        XCTAssertTrue(try fixture.localAddresses().contains(leftover.address))
        let notHeld = try vip(141)
        let executor = TakeoverExecutor(system: LinuxTakeoverSystem(netlink: try RouteNetlink()), clock: ContinuousClock())
        let report = await executor.execute(TakeoverStep.becomeBackup(addresses: [leftover, notHeld], command: nil))
        XCTAssertTrue(report.succeeded, "an address not held is no error: \(report.failures)")
        XCTAssertFalse(try fixture.localAddresses().contains(leftover.address))
    }

    func testLinkMonitorSeesLinkStateAndKeepsAnUnfitDirectorFromTakingOver() async throws {
        let netlink = try RouteNetlink()
        let monitor = LinkMonitor(devices: [fixture.local], interval: .milliseconds(20), netlink: netlink)
        var up = await monitor.allUp()
        XCTAssertTrue(up)
        let missing = await LinkMonitor(devices: [fixture.local, "h2enonexist0"], netlink: netlink).allUp()
        XCTAssertFalse(missing)
        try shell("ip link set \(fixture.local) down")
        up = await monitor.allUp()
        XCTAssertFalse(up)

        // A lone director with monitor_links and its link down: its peer is silent, yet it must not take over.
        // The service's time moves only below; the monitor polls the kernel on real time.
        let clock = ManualClock()
        let deadtime = Duration.milliseconds(150)
        let service = try ClockedHeartbeatService(
            configuration: .init(
                peer: try PeerConfiguration(
                    role: .primary, senderID: 2, keepalive: .milliseconds(50), deadtime: deadtime, monitorLinks: true),
                links: [HeartbeatLink(local: "127.0.0.2", peer: "127.0.0.3")], port: 20_000 + Int(getpid()) % 20_000 + 1,
                authentication: .none),
            clock: clock)
        let monitoring = Task { await monitor.run(reportingTo: service) }
        let running = Task { try await service.run() }
        // Nothing else makes it send before the clock moves: its start, then its unfitness, announced at once.
        let announcedUnfit = await eventually { await service.statistics.sent >= 2 }
        XCTAssertTrue(announcedUnfit)
        clock.advance(by: deadtime * 2)
        let ticked = await eventually { await service.statistics.sent >= 3 }
        XCTAssertTrue(ticked, "its keepalive at twice deadtime")
        var role = await service.statistics.role
        XCTAssertEqual(role, .backup, "deadtime passed twice over with the link down")
        try shell("ip link set \(fixture.local) up")
        let tookOver = await eventually { await service.statistics.role == .active }
        XCTAssertTrue(tookOver, "link back up: the silent peer is dead, take over")
        role = await service.statistics.role
        XCTAssertEqual(role, .active)
        monitoring.cancel()
        running.cancel()
        try await running.value
    }
}
