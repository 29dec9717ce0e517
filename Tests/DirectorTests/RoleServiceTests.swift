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
}
