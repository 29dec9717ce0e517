import HealthCheck
import IPVS
import LVSConfig
import NIOCore
import XCTest

@testable import Director

/// The director as a pure value: events in, actions out, no I/O and no real time.
final class DirectorStateTests: XCTestCase {
    let web1 = RealServerID(virtual: "web", server: "web1")
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func state(_ text: String = TestConfigurations.web) throws -> DirectorState {
        let runtime = try RuntimeConfiguration.make(TestConfigurations.parse(text), file: "test.cf", localAddresses: [:]).get()
        return DirectorState(runtime: runtime, backend: "memory", now: start)
    }

    /// The kernel calls among `actions`.
    func calls(_ actions: [DirectorAction]) -> [DirectorAction] {
        actions.filter { if case .log = $0 { false } else { true } }
    }

    func changes(_ actions: [DirectorAction]) -> [IPVSChange] {
        for case .apply(let changes) in actions { return changes }
        return []
    }

    func testAnInputDuringAnApplyWaitsForItAndRunsOneMorePass() throws {
        var state = try state()
        XCTAssertEqual(state.handle(.reconcile, now: start), [.readKernel], "the kernel table is read first (adopted)")
        XCTAssertEqual(state.handle(.reconcile, now: start), [], "one call in flight at a time")
        let first = state.handle(.kernelRead(.success(IPVSTable())), now: start)
        XCTAssertEqual(calls(first).count, 1)
        let adds = changes(first)
        XCTAssertTrue(adds.contains { "\($0)" == "add server 10.0.0.2:80 to TCP 10.0.0.10:80 route weight 32" }, "\(adds)")

        // web1 fails while the apply is in flight: the model takes it at once, the kernel call waits.
        let during = state.handle(.health(web1, .down(.connectionFailed("Connection refused"))), now: start)
        XCTAssertEqual(calls(during), [])
        XCTAssertEqual(state.model.health[web1]?.state, .down(.connectionFailed("Connection refused")))
        guard case .waiting(.apply, again: true) = state.pass else { return XCTFail("\(state.pass)") }

        let after = state.handle(.applied(adds, .success(())), now: start)
        XCTAssertEqual(after.filter { if case .log = $0 { true } else { false } }.count, adds.count, "each change logged")
        XCTAssertEqual(changes(after).map(\.description), ["remove server 10.0.0.2:80 from TCP 10.0.0.10:80"])
        let last = state.handle(.applied(changes(after), .success(())), now: start)
        XCTAssertEqual(calls(last), [])
        XCTAssertEqual(state.pass, .idle)
        XCTAssertEqual(state.counters.changesApplied, adds.count + 1)
        XCTAssertEqual(state.handle(.tick, now: start + .seconds(1)), [], "an idle tick costs nothing")
    }

    func testAFailedApplyIsLoggedOncePerErrorAndRetriedByReadingTheKernel() throws {
        var state = try state()
        _ = state.handle(.reconcile, now: start)
        let apply = changes(state.handle(.kernelRead(.success(IPVSTable())), now: start))
        let failure = CallFailure("set destination: No buffer space available (105)", appliedChanges: Array(apply.prefix(1)))
        let failed = state.handle(.applied(apply, .failure(failure)), now: start)
        XCTAssertEqual(failed, [
            .log(.info, "ipvs: \(apply[0])"),
            .log(.error, "ipvs: set destination: No buffer space available (105); retrying every second"),
        ])
        XCTAssertEqual(state.counters.netlinkErrors, 1)
        XCTAssertEqual(state.counters.changesApplied, 1)

        let now = start + .seconds(1)
        XCTAssertEqual(state.handle(.tick, now: now), [.readKernel], "the table is unknown after a failure")
        let retry = changes(state.handle(.kernelRead(.success(IPVSTable())), now: now))
        XCTAssertEqual(retry, apply)
        XCTAssertEqual(state.handle(.applied(retry, .failure(failure)), now: now).filter {
            if case .log(.error, _) = $0 { true } else { false }
        }, [], "the same error again is not logged again")
        XCTAssertEqual(state.counters.netlinkErrors, 2)
        _ = state.handle(.tick, now: now + .seconds(1))
        let done = state.handle(.kernelRead(.success(IPVSTable())), now: now + .seconds(1))
        let ok = state.handle(.applied(changes(done), .success(())), now: now + .seconds(1))
        XCTAssertTrue(ok.contains(.log(.notice, "IPVS table in step again")), "\(ok)")
        XCTAssertNil(state.reconcile.lastError)
    }

    func testAnOverrideTakesEffectOnlyOnceSaved() throws {
        var state = try state()
        _ = state.handle(.reconcile, now: start)
        _ = state.handle(.applied(changes(state.handle(.kernelRead(.success(IPVSTable())), now: start)), .success(())), now: start)

        XCTAssertEqual(
            state.handle(.override(.drain, virtual: "nope", address: "10.0.0.2", wallTime: 5), now: start),
            [.reply(.failure(.unknownVirtual("nope", known: "web, marked, off")))])
        let key = OverrideKey(virtual: "web", address: "10.0.0.2")
        let plan = OverridePlan(key: key, action: .drain, wallTime: 5, unmatched: false)
        let save = state.handle(.override(.drain, virtual: "web", address: "10.0.0.2", wallTime: 5), now: start)
        XCTAssertEqual(save, [.saveOverrides([key: .init(action: .drain, setAt: 5)], plan)])
        XCTAssertEqual(state.model.overrides, [:], "nothing applies before the save")

        let refused = state.handle(.overridesSaved(plan, .failure(CallFailure("disk full"))), now: start)
        XCTAssertEqual(refused.last, .reply(.failure(.persistence("disk full"))))
        XCTAssertEqual(state.model.overrides, [:])

        let saved = state.handle(.overridesSaved(plan, .success(nil)), now: start)
        XCTAssertEqual(state.model.overrides[key]?.action, .drain)
        XCTAssertTrue(saved.contains(.reply(.success("web 10.0.0.2: drain (until up)"))), "\(saved)")
        let edits = changes(saved)
        XCTAssertEqual(edits.count, 1, "one change: the drained server's weight")
        if case .updateDestination(_, let destination, _)? = edits.first {
            XCTAssertEqual(destination.weight, 0)
        } else {
            XCTFail("\(edits)")
        }
    }

    func testFailoverServicesTouchNoIPVS() throws {
        let text = """
            service = fos
            primary = 10.0.0.1
            backup = 10.0.0.9
            backup_active = 1
            heartbeat_auth = none
            failover web {
                active = 1
                address = 10.0.0.20 eth0:1
                port = 80
                send = "GET / HTTP/1.0\\r\\n\\r\\n"
                expect = "HTTP"
                start_cmd = "/bin/true"
                stop_cmd = "/bin/true"
            }
            """
        var state = try state(text)
        XCTAssertEqual(state.handle(.reconcile, now: start), [])
        XCTAssertEqual(calls(state.handle(.roleChanged(.active, reason: "test", takeover: false), now: start)), [])
        XCTAssertEqual(state.handle(.tick, now: start + .seconds(1)), [])
    }

    func testTheSameStateGivesTheSameReport() throws {
        var state = try state()
        _ = state.handle(.health(web1, .up), now: start)
        let a = state.report(now: start + .seconds(3), pid: 1)
        let b = state.report(now: start + .seconds(3), pid: 1)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.server("web", "web1")?.health, "up")
    }
}
