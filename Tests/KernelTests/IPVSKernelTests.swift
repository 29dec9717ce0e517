import Addressing
import Foundation
import TestSupport
import IPVS
import XCTest

/// The IPVS client against a real kernel, cross-checked with Debian's ipvsadm.
final class IPVSKernelTests: XCTestCase {
    var client: IPVSClient!

    override func setUp() async throws {
        try requireIPVSKernel()
        client = try IPVSClient()
        try await client.flush()
    }

    override func tearDown() async throws {
        try? await client?.flush()
    }

    private func ours(_ format: IPVSListing.Format = .connections) async throws -> String {
        IPVSListing(format: format).render(info: try await client.info(), table: try await client.table())
    }

    private func assertListingMatchesIpvsadm(file: StaticString = #filePath, line: UInt = #line) async throws {
        let plain = try await ours()
        XCTAssertEqual(plain, try mustRun("ipvsadm -Ln"), "list", file: file, line: line)
        let stats = try await ours(.statistics)
        XCTAssertEqual(stats, try mustRun("ipvsadm -Ln --stats"), "list --stats", file: file, line: line)
        let rates = try await ours(.rates)
        XCTAssertEqual(rates, try mustRun("ipvsadm -Ln --rate"), "list --rate", file: file, line: line)
    }

    func testEverySchedulerTheKernelHasAndEachForwardingMethod() async throws {
        let schedulers = Scheduler.known.filter { $0 != .weightedRandomTwoChoices }  // twos arrived in 6.2
        for (index, scheduler) in schedulers.enumerated() {
            let key = ServiceKey.address(.tcp, v4("10.1.0.\(index + 1)"), port: 80)
            try await client.addService(VirtualService(key: key, scheduler: scheduler))
            for (n, method) in [ForwardingMethod.directRoute, .masquerade, .tunnel].enumerated() {
                try await client.addDestination(Destination(address: v4("10.2.\(index).\(n + 2)"), port: 80, forwarding: method, weight: n * 10 + 1), to: key)
            }
        }
        let table = try await client.table()
        XCTAssertEqual(table.services.map(\.scheduler).sorted { $0.rawValue < $1.rawValue }, schedulers.sorted { $0.rawValue < $1.rawValue })
        for service in table.services {
            XCTAssertEqual(Set(service.destinations.map(\.forwarding)), [.directRoute, .masquerade, .tunnel])
        }
        let ipvsadm = try mustRun("ipvsadm -Ln")
        for scheduler in schedulers { XCTAssertTrue(ipvsadm.contains(":80 \(scheduler)\n"), "ipvsadm shows \(scheduler)") }
        XCTAssertTrue(ipvsadm.contains("Route   1 ") && ipvsadm.contains("Masq    11 ") && ipvsadm.contains("Tunnel  21 "))
        try await assertListingMatchesIpvsadm()
    }

    func testMissingSchedulerNamesTheModuleToLoad() async throws {
        let key = ServiceKey.address(.tcp, v4("10.1.0.1"), port: 80)
        do {
            try await client.addService(VirtualService(key: key, scheduler: .weightedRandomTwoChoices))
            XCTFail("this kernel (6.1) has no twos scheduler")
        } catch let error as IPVSError {
            XCTAssertEqual(error, .schedulerUnavailable(.weightedRandomTwoChoices))
            XCTAssertTrue(error.description.contains("modprobe ip_vs_twos"), error.description)
        }
        let services = try await client.services()
        XCTAssertEqual(services, [])
    }

    func testFirewallMarksPersistenceIPv6AndFlagsListLikeIpvsadm() async throws {
        var fwm = VirtualService(key: .firewallMark(100, family: .ipv4), scheduler: .localityBasedLeastConnection,
                                 persistence: .init(timeout: 600, netmask: 0xffff_ff00))
        fwm.destinations = [Destination(address: v4("10.0.0.2"), port: 0, weight: 32), Destination(address: v4("10.0.0.3"), port: 0, weight: 32)]
        var fwm6 = VirtualService(key: .firewallMark(7, family: .ipv6), scheduler: .roundRobin, persistence: .init(timeout: 30, netmask: 64))
        fwm6.destinations = [Destination(address: IPAddress("2001:db8::10")!, port: 0, forwarding: .tunnel)]
        var v6 = VirtualService(key: .address(.udp, IPAddress("2001:db8::1")!, port: 53), scheduler: .sourceHashing,
                                onePacket: true, schedulerFlags: [.fallback, .port])
        v6.destinations = [Destination(address: IPAddress("2001:db8::5")!, port: 53, forwarding: .masquerade, weight: 3)]
        var sctp = VirtualService(key: .address(.sctp, v4("10.0.0.1"), port: 3868), scheduler: .maglevHashing, schedulerFlags: [.port])
        sctp.destinations = [Destination(address: v4("10.0.0.4"), port: 3868, weight: 65535)]
        let desired = IPVSTable(services: [fwm, fwm6, v6, sctp])
        try await client.apply(IPVSReconciler.changes(from: try await client.table(), to: desired))

        let ipvsadm = try mustRun("ipvsadm -Ln")
        XCTAssertTrue(ipvsadm.contains("FWM  100 lblc persistent 600 mask 255.255.255.0"), ipvsadm)
        XCTAssertTrue(ipvsadm.contains("FWM  7 IPv6 rr persistent 30 mask 64"), ipvsadm)
        XCTAssertTrue(ipvsadm.contains("UDP  [2001:db8::1]:53 sh (sh-fallback,sh-port) ops"), ipvsadm)
        XCTAssertTrue(ipvsadm.contains("SCTP 10.0.0.1:3868 mh (mh-port)"), ipvsadm)
        try await assertListingMatchesIpvsadm()
        // What we read back is what we wrote.
        let table = try await client.table()
        XCTAssertEqual(IPVSReconciler.changes(from: table, to: desired), [])
        XCTAssertEqual(table[.firewallMark(100, family: .ipv4)]?.persistence, .init(timeout: 600, netmask: 0xffff_ff00))
        XCTAssertEqual(table[.address(.udp, IPAddress("2001:db8::1")!, port: 53)]?.schedulerFlags, [.fallback, .port])
    }

    func testWeightAndThresholdEditsHappenInPlace() async throws {
        let key = ServiceKey.address(.tcp, v4("10.0.0.1"), port: 80)
        var service = VirtualService(key: key, scheduler: .weightedLeastConnection)
        service.destinations = [Destination(address: v4("10.0.0.2"), port: 80, weight: 32), Destination(address: v4("10.0.0.3"), port: 80, weight: 32)]
        try await client.apply(IPVSReconciler.changes(from: try await client.table(), to: IPVSTable(services: [service])))

        service.destinations[0].weight = 40
        service.destinations[1].upperThreshold = 100
        service.destinations[1].lowerThreshold = 10
        service.scheduler = .localityBasedLeastConnection
        let changes = IPVSReconciler.changes(from: try await client.table(), to: IPVSTable(services: [service]))
        XCTAssertEqual(changes.count, 3)
        XCTAssertTrue(changes.allSatisfy { if case .updateDestination = $0 { true } else if case .updateService = $0 { true } else { false } }, "\(changes)")
        XCTAssertTrue(changes.map(\.description).contains("set weight 32 -> 40 for 10.0.0.2:80 in TCP 10.0.0.1:80"), "\(changes)")
        try await client.apply(changes)

        let thresholds = try mustRun("ipvsadm -Ln --thresholds")
        XCTAssertTrue(thresholds.contains("  -> 10.0.0.3:80                  100        10 "), thresholds)
        let listing = try mustRun("ipvsadm -Ln")
        XCTAssertTrue(listing.contains("TCP  10.0.0.1:80 lblc"), listing)
        XCTAssertTrue(listing.contains("  -> 10.0.0.2:80                  Route   40 "), listing)
        let adoptChanges = IPVSReconciler.changes(from: try await client.table(), to: IPVSTable(services: [service]))
        XCTAssertEqual(adoptChanges, [])
    }

    func testAdoptsATableThatIpvsadmMadeWithoutTouchingIt() async throws {
        try mustRun("""
            ipvsadm -A -t 10.0.0.1:80 -s lblc && ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 32 && \
            ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.3:80 -g -w 16 && ipvsadm -A -f 100 -s wlc -p 300 && \
            ipvsadm -a -f 100 -r 10.0.0.2:0 -g -w 5
            """)
        var web = VirtualService(key: .address(.tcp, v4("10.0.0.1"), port: 80), scheduler: .localityBasedLeastConnection)
        web.destinations = [Destination(address: v4("10.0.0.3"), port: 80, weight: 16), Destination(address: v4("10.0.0.2"), port: 80, weight: 32)]
        var marked = VirtualService(key: .firewallMark(100, family: .ipv4), scheduler: .weightedLeastConnection, persistence: .perClient(timeout: 300, family: .ipv4))
        marked.destinations = [Destination(address: v4("10.0.0.2"), port: 0, weight: 5)]
        let desired = IPVSTable(services: [marked, web])
        let identicalChanges = IPVSReconciler.changes(from: try await client.table(), to: desired)
        XCTAssertEqual(identicalChanges, [], "an identical table is adopted")

        // Converge a different table, then a second pass is a no-op.
        web.destinations.append(Destination(address: v4("10.0.0.4"), port: 80, weight: 8))
        web.destinations.removeFirst()
        let next = IPVSTable(services: [web])
        try await client.apply(IPVSReconciler.changes(from: try await client.table(), to: next))
        let nextChanges = IPVSReconciler.changes(from: try await client.table(), to: next)
        XCTAssertEqual(nextChanges, [])
        let listing = try mustRun("ipvsadm -Ln")
        XCTAssertFalse(listing.contains("FWM"), listing)
        XCTAssertFalse(listing.contains("10.0.0.3:80"), listing)
        XCTAssertTrue(listing.contains("10.0.0.4:80                  Route   8 "), listing)
    }

    /// One apply of thousands of changes goes out many to a datagram: the table ipvsadm lists is the one asked
    /// for, and a change the kernel refuses in the middle of a datagram is named while the rest of it still goes in.
    func testABatchedApplyConvergesAndNamesTheChangeTheKernelRefused() async throws {
        // 600 services x 4 destinations: 3,000 changes, about a dozen datagrams.
        let desired = IPVSTable(services: (0..<600).map { s in
            var service = VirtualService(key: .address(.tcp, IPAddress(ipv4: 0x0a01_0000 | UInt32(s)), port: 80))
            service.destinations = (1...4).map { d in
                Destination(address: IPAddress(ipv4: 0xac11_0000 | UInt32(d)), port: 80, forwarding: .directRoute, weight: d)
            }
            return service
        })
        let changes = IPVSReconciler.changes(from: try await client.table(), to: desired)
        XCTAssertEqual(changes.count, 3_000)
        let applied = try await client.apply(changes)
        XCTAssertEqual(applied, 3_000)
        let programmed = try await client.table()
        XCTAssertEqual(IPVSReconciler.changes(from: programmed, to: desired), [])
        let listing = try mustRun("ipvsadm -Ln")
        XCTAssertEqual(listing.components(separatedBy: "\nTCP  ").count - 1, 600, "services ipvsadm lists")
        XCTAssertEqual(listing.components(separatedBy: "  Route   ").count - 1, 2_400, "destinations ipvsadm lists")

        // Weight edits, with one for a service that does not exist in the middle of the first datagram.
        let missing = ServiceKey.address(.tcp, v4("10.9.9.9"), port: 80)
        var edits: [IPVSChange] = desired.services.prefix(200).flatMap { service in
            service.destinations.map { old -> IPVSChange in
                var new = old
                new.weight = old.weight + 10
                return .updateDestination(service.key, new, previous: old)
            }
        }
        let stray = IPVSChange.addDestination(missing, Destination(address: v4("172.17.0.9"), port: 80))
        edits.insert(stray, at: 100)
        do {
            try await client.apply(edits)
            XCTFail("a destination for a missing service went in")
        } catch let error as IPVSApplyError {
            XCTAssertEqual(error.change, stray)
            XCTAssertEqual(error.underlying, .noSuchService(missing))
            XCTAssertEqual(error.refused, 1)
            XCTAssertEqual(error.applied, 800, "every edit but the refused one went in")
            XCTAssertEqual(error.appliedChanges, edits.filter { $0 != stray })
        }
        let table = try await client.table()
        for service in desired.services.prefix(200) {
            XCTAssertEqual(table[service.key]?.destinations.map(\.weight).sorted(), [11, 12, 13, 14], "\(service.key)")
        }
        XCTAssertEqual(table[desired.services[200].key]?.destinations.map(\.weight).sorted(), [1, 2, 3, 4])

        // The socket is clean afterwards: a single request and a dump still work.
        try await client.addService(VirtualService(key: missing))
        let services = try await client.services()
        XCTAssertEqual(services.count, 601)
    }

    func testKernelErrorsAreTypedAndSayWhatToDo() async throws {
        let key = ServiceKey.address(.tcp, v4("10.0.0.1"), port: 80)
        let other = ServiceKey.address(.tcp, v4("10.0.0.9"), port: 80)
        let destination = Destination(address: v4("10.0.0.2"), port: 80)
        try await client.addService(VirtualService(key: key))
        await assertThrows(.serviceExists(key)) { try await self.client.addService(VirtualService(key: key)) }
        await assertThrows(.noSuchService(other)) { try await self.client.deleteService(other) }
        await assertThrows(.noSuchService(other)) { try await self.client.addDestination(destination, to: other) }
        await assertThrows(.noSuchDestination(key, destination.id)) { try await self.client.deleteDestination(destination.id, from: key) }
        await assertThrows(.noSuchDestination(key, destination.id)) { try await self.client.updateDestination(destination, in: key) }
        try await client.addDestination(destination, to: key)
        await assertThrows(.destinationExists(key, destination.id)) { try await self.client.addDestination(destination, to: key) }
        var heavy = destination
        heavy.weight = 70000
        await assertThrows(.invalid("destination 10.0.0.2:80: weight 70000 is outside 0...65535")) { try await self.client.updateDestination(heavy, in: key) }

        // Without CAP_NET_ADMIN the kernel refuses, and the command says what it needs.
        let director = productsDirectory.appendingPathComponent("h2e-director").path
        let result = try shell("setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \(director) list")
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.output.contains("needs CAP_NET_ADMIN"), result.output)
    }

    func testTimeoutsSyncDaemonZeroAndFlush() async throws {
        try await client.setTimeouts(IPVSTimeouts(tcp: 901, tcpFin: 121, udp: 301))
        let timeouts = try await client.timeouts()
        XCTAssertEqual(timeouts, IPVSTimeouts(tcp: 901, tcpFin: 121, udp: 301))
        XCTAssertEqual(try mustRun("ipvsadm -L --timeout"), "Timeout (tcp tcpfin udp): 901 121 301\n")
        try await client.setTimeouts(IPVSTimeouts(tcp: 0, tcpFin: 60, udp: 0))
        let keptTimeouts = try await client.timeouts()
        XCTAssertEqual(keptTimeouts, IPVSTimeouts(tcp: 901, tcpFin: 60, udp: 301), "0 keeps a timeout")

        try await client.startSyncDaemon(SyncDaemon(state: .master, interface: "lo", syncID: 7))
        let daemons = try await client.syncDaemons()
        XCTAssertEqual(daemons, [SyncDaemon(state: .master, interface: "lo", syncID: 7)])
        XCTAssertTrue(try mustRun("ipvsadm -L --daemon").contains("master sync daemon (mcast=lo, syncid=7"))
        try await client.stopSyncDaemon(.master)
        let daemonsAfterStop = try await client.syncDaemons()
        XCTAssertEqual(daemonsAfterStop, [])

        try await client.addService(VirtualService(key: .address(.udp, v4("10.0.0.1"), port: 53)))
        try await client.zero()
        try await client.zero(.address(.udp, v4("10.0.0.1"), port: 53))
        try await client.flush()
        let servicesAfterFlush = try await client.services()
        XCTAssertEqual(servicesAfterFlush, [])
        XCTAssertEqual(try mustRun("ipvsadm -Ln | wc -l"), "3\n")
    }

    private func assertThrows(_ expected: IPVSError, file: StaticString = #filePath, line: UInt = #line, _ body: () async throws -> Void) async {
        do {
            try await body()
            XCTFail("expected \(expected)", file: file, line: line)
        } catch let error as IPVSError {
            XCTAssertEqual(error, expected, file: file, line: line)
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
    }
}
