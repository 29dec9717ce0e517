import Addressing
import IPVS
import XCTest

final class IPVSReconcilerTests: XCTestCase {
    private let web = ServiceKey.address(.tcp, IPAddress("10.0.0.1")!, port: 80)
    private let mark = ServiceKey.firewallMark(100, family: .ipv4)

    private func server(_ last: Int, weight: Int = 32, port: UInt16 = 80) -> Destination {
        Destination(address: IPAddress("10.0.0.\(last)")!, port: port, weight: weight)
    }

    private func table(_ services: VirtualService...) -> IPVSTable { IPVSTable(services: services) }

    func testEmptyToDesiredAddsServiceThenItsDestinationsInOrder() {
        let desired = table(VirtualService(key: web, destinations: [server(2), server(3)]))
        let changes = IPVSReconciler.changes(from: IPVSTable(), to: desired)
        XCTAssertEqual(changes, [
            .addService(VirtualService(key: web)),
            .addDestination(web, server(2)),
            .addDestination(web, server(3)),
        ])
        XCTAssertEqual(changes.map(\.description), [
            "add service TCP 10.0.0.1:80 lblc",
            "add server 10.0.0.2:80 to TCP 10.0.0.1:80 route weight 32",
            "add server 10.0.0.3:80 to TCP 10.0.0.1:80 route weight 32",
        ])
    }

    func testIdenticalTableIsAdoptedWhateverTheCountersAndOrder() {
        var kernel = VirtualService(key: web, destinations: [server(3), server(2)])
        kernel.statistics = IPVSStatistics()
        kernel.destinations[0].activeConnections = 12
        kernel.destinations[1].statistics = IPVSStatistics()
        let desired = table(VirtualService(key: web, destinations: [server(2), server(3)]))
        XCTAssertEqual(IPVSReconciler.changes(from: table(kernel), to: desired), [])
    }

    func testWeightAndThresholdChangesAreInPlaceEdits() {
        var changed = server(2, weight: 40)
        changed.upperThreshold = 100
        let changes = IPVSReconciler.changes(
            from: table(VirtualService(key: web, destinations: [server(2), server(3)])),
            to: table(VirtualService(key: web, destinations: [changed, server(3)])))
        XCTAssertEqual(changes, [.updateDestination(web, changed, previous: server(2))])
        XCTAssertEqual(changes.first?.description, "set weight 32 -> 40, upper threshold 0 -> 100 for 10.0.0.2:80 in TCP 10.0.0.1:80")
    }

    func testSchedulerOrPersistenceChangeEditsTheServiceInPlace() {
        let desired = VirtualService(key: mark, scheduler: .weightedLeastConnection, persistence: .perClient(timeout: 600, family: .ipv4), destinations: [server(2, port: 0)])
        let changes = IPVSReconciler.changes(from: table(VirtualService(key: mark, destinations: [server(2, port: 0)])), to: table(desired))
        XCTAssertEqual(changes, [.updateService(VirtualService(key: mark, scheduler: .weightedLeastConnection, persistence: .perClient(timeout: 600, family: .ipv4)))])
        XCTAssertEqual(changes.first?.description, "edit service FWM 100 wlc persistent 600")
    }

    func testReplacingEveryDestinationAddsBeforeRemovingSoTheServiceIsNeverEmpty() {
        let changes = IPVSReconciler.changes(
            from: table(VirtualService(key: web, destinations: [server(2), server(3)])),
            to: table(VirtualService(key: web, destinations: [server(4), server(5)])))
        XCTAssertEqual(changes, [
            .addDestination(web, server(4)), .addDestination(web, server(5)),
            .deleteDestination(web, server(2).id), .deleteDestination(web, server(3).id),
        ])
        var size = 2
        for change in changes {
            if case .addDestination = change { size += 1 }
            if case .deleteDestination = change { size -= 1 }
            XCTAssertGreaterThan(size, 0)
        }
    }

    func testNewServicesGoInBeforeUnlistedOnesAreDeleted() {
        let changes = IPVSReconciler.changes(
            from: table(VirtualService(key: web, destinations: [server(2)])),
            to: table(VirtualService(key: mark, destinations: [server(2, port: 0)])))
        XCTAssertEqual(changes, [.addService(VirtualService(key: mark)), .addDestination(mark, server(2, port: 0)), .deleteService(web)])
        XCTAssertEqual(
            IPVSReconciler.changes(from: table(VirtualService(key: web)), to: IPVSTable(), removeUnlisted: false), [],
            "unlisted services stay when the caller does not own them")
    }

    func testApplyingTheChangesToAModelOfTheKernelConvergesAndIsIdempotent() {
        // A seeded random walk over tables: after applying the changes, the next reconcile is empty.
        var generator = SplitMix(seed: 42)
        var kernel = IPVSTable()
        for _ in 0..<300 {
            let desired = randomTable(&generator)
            let changes = IPVSReconciler.changes(from: kernel, to: desired)
            kernel = simulate(changes, on: kernel)
            XCTAssertEqual(IPVSReconciler.changes(from: kernel, to: desired), [], "converged in one pass")
        }
    }

    private func randomTable(_ g: inout SplitMix) -> IPVSTable {
        let keys: [ServiceKey] = [web, mark, .address(.udp, IPAddress("2001:db8::1")!, port: 53), .firewallMark(7, family: .ipv6)]
        var services: [VirtualService] = []
        for key in keys where g.next() % 3 != 0 {
            var service = VirtualService(key: key, scheduler: [Scheduler.localityBasedLeastConnection, .roundRobin][Int(g.next() % 2)])
            if g.next() % 2 == 0 { service.persistence = .perClient(timeout: 300, family: key.family) }
            let v6 = key.family == .ipv6
            for last in 2..<(2 + Int(g.next() % 5)) where g.next() % 4 != 0 {
                let address = IPAddress(v6 ? "2001:db8::\(last)" : "10.0.0.\(last)")!
                service.destinations.append(Destination(address: address, port: 80, weight: Int(g.next() % 4) * 8))
            }
            services.append(service)
        }
        return IPVSTable(services: services)
    }

    /// What the kernel would do with each change; fails the test on a change the kernel would refuse.
    private func simulate(_ changes: [IPVSChange], on table: IPVSTable) -> IPVSTable {
        var services = table.services
        func index(_ key: ServiceKey) -> Int? { services.firstIndex { $0.key == key } }
        for change in changes {
            switch change {
            case .addService(let service):
                XCTAssertNil(index(service.key), "add of an existing service")
                services.append(service)
            case .updateService(let service):
                guard let i = index(service.key) else { XCTFail("edit of a missing service"); continue }
                let destinations = services[i].destinations
                services[i] = service
                services[i].destinations = destinations
            case .deleteService(let key):
                services.removeAll { $0.key == key }
            case .addDestination(let key, let destination):
                guard let i = index(key) else { XCTFail("destination for a missing service"); continue }
                XCTAssertFalse(services[i].destinations.contains { $0.id == destination.id })
                services[i].destinations.append(destination)
            case .updateDestination(let key, let destination, _):
                guard let i = index(key), let j = services[i].destinations.firstIndex(where: { $0.id == destination.id }) else {
                    XCTFail("edit of a missing destination"); continue
                }
                services[i].destinations[j] = destination
            case .deleteDestination(let key, let id):
                guard let i = index(key) else { XCTFail("delete from a missing service"); continue }
                services[i].destinations.removeAll { $0.id == id }
            }
        }
        return IPVSTable(services: services)
    }
}

/// A small deterministic generator, so property tests are reproducible.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
