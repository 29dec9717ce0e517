import Addressing
import Heartbeat
import IPVS
import Logging
import XCTest

@testable import Director

/// A takeover system that notes, at each address it adds, how many IPVS changes the kernel had taken by then.
private actor WatchingTakeoverSystem: TakeoverSystem {
    let kernel: InMemoryIPVSKernel
    var added: [(address: String, ipvsChangesBefore: Int)] = []

    init(kernel: InMemoryIPVSKernel) { self.kernel = kernel }

    func add(_ address: VirtualAddress) async throws {
        added.append((address.address, await kernel.log.count))
    }
    func remove(_ address: VirtualAddress) throws {}
    func announce(_ address: VirtualAddress) throws {}
    func run(command: String) throws {}
    func install(marks: [SiteMarks]) throws {}
}

/// Every takeover call, as text.
private actor RecordingTakeoverSystem: TakeoverSystem {
    var calls: [String] = []
    func add(_ address: VirtualAddress) { calls.append("add \(address.address)") }
    func remove(_ address: VirtualAddress) { calls.append("remove \(address.address)") }
    func announce(_ address: VirtualAddress) { calls.append("announce \(address.address)") }
    func run(command: String) { calls.append("run \(command)") }
    func install(marks: [SiteMarks]) {
        calls.append("marks " + marks.map { "\($0.mark): " + $0.addresses.map(\.description).joined(separator: " ") }.joined(separator: ", "))
    }
}

final class RoleServiceTests: XCTestCase {
    /// Failover actions first: a director becoming active adds its VIPs before the IPVS table is read or written,
    /// however slow the kernel is.
    func testBecomingActiveAddsTheAddressesBeforeAnyIPVSWork() async throws {
        let runtime = try RuntimeConfiguration.make(
            TestConfigurations.parse(TestConfigurations.web), file: "test.cf", localAddresses: [:]
        ).get()
        let kernel = InMemoryIPVSKernel()
        await kernel.setDelay(.seconds(3))
        let core = DirectorCore(runtime: runtime, kernel: kernel)
        let system = WatchingTakeoverSystem(kernel: kernel)
        let role = RoleService(runtime: runtime, core: core, system: system, logger: Logger(label: "test"))
        let running = Task { try await role.run() }
        defer { running.cancel() }

        let start = ContinuousClock.now
        var added: [(address: String, ipvsChangesBefore: Int)] = []
        while added.count < 2, ContinuousClock.now - start < .seconds(20) {
            try await Task.sleep(for: .milliseconds(10))
            added = await system.added
        }
        XCTAssertEqual(added.map(\.address).sorted(), ["10.0.0.10", "10.0.0.11"])
        XCTAssertEqual(added.map(\.ipvsChangesBefore), [0, 0], "no IPVS change went in before the addresses")
        // The table follows.
        var log: [IPVSChange] = []
        while log.isEmpty, ContinuousClock.now - start < .seconds(20) {
            try await Task.sleep(for: .milliseconds(50))
            log = await kernel.log
        }
        XCTAssertFalse(log.isEmpty, "the IPVS table was programmed after the takeover")
    }

    static func sites(_ addresses: String) -> String {
        """
        network = direct
        service = lvs
        virtual sites {
            active = 1
            fwmark = 100
            port = 80
            site_device = eth0
            site_address = \(addresses)
            server web1 {
                active = 1
                address = 10.0.0.21
            }
        }

        """
    }

    /// The active director marks its site addresses before it holds them; a reload that changes the list takes
    /// only the difference: the dropped addresses go, the marks are replaced, and only the new ones are added and
    /// announced.
    func testSiteAddressesAreMarkedFirstAndAReloadChangesOnlyTheDifference() async throws {
        let runtime = try RuntimeConfiguration.make(
            TestConfigurations.parse(Self.sites("10.0.2.1 10.0.2.2 10.0.2.3 10.0.2.4")), file: "test.cf", localAddresses: [:]
        ).get()
        XCTAssertEqual(runtime.virtualAddresses.map(\.description), (1...4).map { "10.0.2.\($0)/32 dev eth0" })
        XCTAssertEqual(runtime.siteMarks, [SiteMarks(mark: 100, addresses: (1...4).map { IPAddress("10.0.2.\($0)")! })])
        let core = DirectorCore(runtime: runtime, kernel: InMemoryIPVSKernel())
        let system = RecordingTakeoverSystem()
        let role = RoleService(runtime: runtime, core: core, system: system, logger: Logger(label: "test"))
        let running = Task { try await role.run() }
        defer { running.cancel() }

        func waitForCalls(_ count: Int) async throws -> [String] {
            let start = ContinuousClock.now
            var calls = await system.calls
            while calls.count < count, ContinuousClock.now - start < .seconds(20) {
                try await Task.sleep(for: .milliseconds(10))
                calls = await system.calls
            }
            return calls
        }
        let takeover = try await waitForCalls(9)
        XCTAssertEqual(
            Array(takeover.prefix(9)),
            ["marks 100: 10.0.2.1 10.0.2.2 10.0.2.3 10.0.2.4"] + (1...4).map { "add 10.0.2.\($0)" }
                + (1...4).map { "announce 10.0.2.\($0)" })

        let reloaded = try RuntimeConfiguration.make(
            TestConfigurations.parse(Self.sites("10.0.2.2 10.0.2.3 10.0.2.5 10.0.2.4 10.0.2.6")), file: "test.cf",
            localAddresses: [:]
        ).get()
        let before = await system.calls.count
        await role.reconfigure(reloaded)
        // Later rounds of the first takeover's announcements may still be on their way when the reload begins.
        let new = ["announce 10.0.2.5", "announce 10.0.2.6"]
        let after = Array(try await waitForCalls(before + 6).dropFirst(before)).filter {
            !$0.hasPrefix("announce ") || new.contains($0)
        }
        XCTAssertEqual(
            Array(after.prefix(6)),
            ["remove 10.0.2.1", "marks 100: 10.0.2.2 10.0.2.3 10.0.2.5 10.0.2.4 10.0.2.6", "add 10.0.2.5", "add 10.0.2.6",
             "announce 10.0.2.5", "announce 10.0.2.6"])
    }
}
