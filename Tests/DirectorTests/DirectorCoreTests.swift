import Addressing
import HealthCheck
import IPVS
import LVSConfig
import NIOCore
import XCTest

@testable import Director

final class DirectorCoreTests: XCTestCase {
    let web1 = RealServerID(virtual: "web", server: "web1")
    let webKey = ServiceKey.address(.tcp, IPAddress("10.0.0.10")!, port: 80)

    func runtime(_ text: String = TestConfigurations.web) throws -> RuntimeConfiguration {
        try RuntimeConfiguration.make(TestConfigurations.parse(text), file: "test.cf", localAddresses: [:]).get()
    }

    func testStartAdoptsTheKernelTableAndIdleReconcilesCostNothing() async throws {
        let existing = VirtualService(
            key: webKey, scheduler: .weightedLeastConnection,
            destinations: [Destination(address: IPAddress("10.0.0.2")!, port: 80, forwarding: .directRoute, weight: 32)])
        let stray = VirtualService(key: .address(.tcp, IPAddress("192.0.2.1")!, port: 25))
        let kernel = InMemoryIPVSKernel(table: IPVSTable(services: [existing, stray]))
        let core = DirectorCore(runtime: try runtime(), kernel: kernel)
        await core.reconcile()
        let log = await kernel.log.map(\.description)
        XCTAssertEqual(log, [
            "add server 10.0.0.3:80 to TCP 10.0.0.10:80 route weight 16",
            "add service FWM 100 lblc persistent 300",
            "add server 10.0.0.5:0 to FWM 100 route weight 10",
            "delete service TCP 192.0.2.1:25",
        ])
        XCTAssertFalse(log.contains { $0.contains("10.0.0.2:80") }, "a matching destination is adopted untouched")
        let calls = await kernel.calls
        await core.reconcile()
        await core.tick()
        let after = await kernel.calls
        XCTAssertEqual(after, calls, "nothing changed: no netlink call")
    }

    func testHealthEventsChangeTheTable() async throws {
        let kernel = InMemoryIPVSKernel()
        let core = DirectorCore(runtime: try runtime(), kernel: kernel)
        await core.reconcile()
        await core.healthChanged(web1, to: .down(.connectionFailed("Connection refused")))
        var destinations = await kernel.current[webKey]?.destinations.map(\.id.description)
        XCTAssertEqual(destinations, ["10.0.0.3:80"])
        await core.healthChanged(web1, to: .up)
        destinations = await kernel.current[webKey]?.destinations.map(\.id.description)
        XCTAssertEqual(destinations?.sorted(), ["10.0.0.2:80", "10.0.0.3:80"])
        let status = await core.status()
        XCTAssertEqual(status.server("web", "web1")?.health, "up")
        XCTAssertEqual(status.server("web", "web1")?.weight, 32)
        XCTAssertEqual(status.server("web", "web2")?.health, "unknown")
        XCTAssertEqual(status.server("web", "web2")?.check, "tcp send \"GET / HTTP/1.0\\r\\n\\r\\n\" expect \"HTTP\"")
    }

    func testNetlinkErrorIsCountedAndRetriedOnTheNextTick() async throws {
        let kernel = InMemoryIPVSKernel()
        let core = DirectorCore(runtime: try runtime(), kernel: kernel)
        await core.reconcile()
        await kernel.setFailure(.netlink(operation: "set destination", code: 105, message: "No buffer space available"))
        await core.healthChanged(web1, to: .down(.connectionFailed("Connection refused")))
        var status = await core.status()
        XCTAssertEqual(status.ipvs.errors, 1)
        XCTAssertTrue(status.ipvs.lastError?.contains("No buffer space available") == true, "\(status.ipvs)")
        await core.tick()
        status = await core.status()
        XCTAssertEqual(status.ipvs.errors, 2, "each failed retry counts")
        XCTAssertEqual(status.ipvs.consecutiveErrors, 2)
        await kernel.setFailure(nil)
        await core.tick()
        status = await core.status()
        XCTAssertNil(status.ipvs.lastError)
        XCTAssertEqual(status.ipvs.consecutiveErrors, 0)
        let destinations = await kernel.current[webKey]?.destinations.map(\.id.description)
        XCTAssertEqual(destinations, ["10.0.0.3:80"], "the retry applied the change")
    }

    func testOverridesArePersistedAndSurviveARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("h2e-core-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = OverrideStore(directory: directory)
        let kernel = InMemoryIPVSKernel()
        let core = DirectorCore(runtime: try runtime(), kernel: kernel, store: store, wallClock: { 1_700_000_000 })
        await core.reconcile()
        let message = try await core.override(.drain, virtual: "web", address: "10.0.0.2")
        XCTAssertEqual(message, "web 10.0.0.2: drain (until up)")
        let weight = await kernel.current[webKey]?.destinations.first { $0.id.description == "10.0.0.2:80" }?.weight
        XCTAssertEqual(weight, 0)
        do {
            _ = try await core.override(.down, virtual: "nope", address: "10.0.0.2")
            XCTFail("unknown virtual accepted")
        } catch {
            XCTAssertEqual(error, .unknownVirtual("nope", known: "web, marked, off"))
        }
        do {
            _ = try await core.override(.down, virtual: "web", address: "10.9.9.9")
            XCTFail("unknown server accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("10.0.0.2, 10.0.0.3, 10.0.0.4"), "\(error)")
        }

        let saved = try store.load()
        XCTAssertEqual(saved, [OverrideKey(virtual: "web", address: "10.0.0.2"): .init(action: .drain, setAt: 1_700_000_000)])
        let restarted = DirectorCore(runtime: try runtime(), kernel: kernel, store: store, overrides: saved)
        await restarted.reconcile()
        let status = await restarted.status()
        XCTAssertEqual(status.server("web", "web1")?.override, "drain")
        XCTAssertEqual(status.server("web", "web1")?.weight, 0)
        XCTAssertEqual(status.server("web", "web1")?.reason, "weight 0: drained by the operator")
        _ = try await restarted.override(.up, virtual: "web", address: "10.0.0.2")
        XCTAssertEqual(try store.load(), [:], "up clears the saved override")
    }

    func testHardShutdownRemovesOnlyConfiguredServices() async throws {
        let stray = VirtualService(key: .address(.tcp, IPAddress("192.0.2.1")!, port: 25))
        let kernel = InMemoryIPVSKernel()
        let core = DirectorCore(runtime: try runtime(), kernel: kernel)
        await core.reconcile()
        await kernel.setTable(IPVSTable(services: (await kernel.current.services) + [stray]))
        await core.removeServices()
        let left = await kernel.current.services.map(\.key)
        XCTAssertEqual(left, [stray.key])
    }
}

extension DirectorCoreTests {
    func testTimeoutsAndSyncDaemonFollowConfigurationAndRole() async throws {
        let text = TestConfigurations.web.replacing(
            "service = lvs", with: "service = lvs\ntcp_timeout = 600\nsyncdaemon = 1\nsyncd_iface = eth1\nsyncd_id = 7")
        let kernel = InMemoryIPVSKernel()
        let core = DirectorCore(runtime: try runtime(text), kernel: kernel)
        await core.reconcile()
        var timeouts = await kernel.timeouts
        XCTAssertEqual(timeouts, IPVSTimeouts(tcp: 600, tcpFin: 120, udp: 300), "0 keeps the kernel's value")
        var daemon = await kernel.syncDaemon
        XCTAssertNil(daemon, "no role yet: no sync daemon")
        await core.roleChanged(to: .backup, reason: "starting")
        daemon = await kernel.syncDaemon
        XCTAssertEqual(daemon, SyncDaemon(state: .backup, interface: "eth1", syncID: 7))
        await core.roleChanged(to: .active, reason: "peer dead")
        daemon = await kernel.syncDaemon
        XCTAssertEqual(daemon, SyncDaemon(state: .master, interface: "eth1", syncID: 7))

        // A failing setting is retried but does not hold the table back.
        await kernel.setFailure(.netlink(operation: "x", code: 19, message: "No such device"))
        await core.roleChanged(to: .backup, reason: "peer outranks")
        await kernel.setFailure(nil)
        await core.healthChanged(web1, to: .down(.connectionFailed("Connection refused")))
        daemon = await kernel.syncDaemon
        XCTAssertEqual(daemon?.state, .backup, "retried on the next reconcile")
        let destinations = await kernel.current[webKey]?.destinations.count
        XCTAssertEqual(destinations, 1)
        timeouts = await kernel.timeouts
        XCTAssertEqual(timeouts.tcp, 600)
        let status = await core.status()
        XCTAssertGreaterThanOrEqual(status.ipvs.errors, 1)
    }
}

extension DirectorCoreTests {
    /// Inputs arriving while a reconcile waits on the kernel must not start a second, interleaved one (it would
    /// add the same service twice and count a bogus error).
    func testConcurrentInputsDoNotInterleaveReconciles() async throws {
        let kernel = InMemoryIPVSKernel()
        await kernel.setDelay(.milliseconds(20))
        let core = DirectorCore(runtime: try runtime(), kernel: kernel)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await core.reconcile() }
            group.addTask { await core.roleChanged(to: .active, reason: "test") }
            let id = web1
            group.addTask { await core.healthChanged(id, to: .up) }
            group.addTask { await core.tick() }
        }
        await core.reconcile()
        let status = await core.status()
        XCTAssertEqual(status.ipvs.errors, 0, "\(status.ipvs)")
        let services = await kernel.current.services.count
        XCTAssertEqual(services, 2)
    }
}
