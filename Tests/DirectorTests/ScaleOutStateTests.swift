import HealthCheck
import Heartbeat
import IPVS
import Addressing
import LoadFeedback
import LVSConfig
import NIOCore
import XCTest

@testable import Director

/// `scale_out = 1` as a pure value: what a director announces follows what its kernel table can serve and the
/// operator's drain, and nothing is announced before the table is programmed.
final class ScaleOutStateTests: XCTestCase {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    let web1 = RealServerID(virtual: "web", server: "web1")
    let web2 = RealServerID(virtual: "web", server: "web2")
    let api1 = RealServerID(virtual: "api", server: "api1")

    static let group = """
        network = direct
        scale_out = 1

        virtual web {
            active = 1
            address = 10.0.100.10 eth0
            port = 80
            server web1 {
                active = 1
                address = 10.0.0.21
                weight = 10
            }
            server web2 {
                active = 1
                address = 10.0.0.22
                weight = 10
            }
        }

        virtual api {
            active = 1
            address = 10.0.100.11 eth0
            port = 80
            scheduler = sh
            server api1 {
                active = 1
                address = 10.0.0.31
                weight = 5
            }
        }
        """

    func state(_ text: String = ScaleOutStateTests.group, drained: Bool = false) throws -> DirectorState {
        let runtime = try RuntimeConfiguration.make(TestConfigurations.parse(text), file: "test.cf", localAddresses: [:]).get()
        return DirectorState(runtime: runtime, backend: "memory", directorDrained: drained, now: start)
    }

    /// Runs `event` and every kernel call it starts to success; returns the sets announced on the way.
    func run(_ event: DirectorEvent, on state: inout DirectorState, table: inout IPVSTable) -> [[String]] {
        Self.drive(event, on: &state, table: &table, now: start)
    }

    static func drive(_ event: DirectorEvent, on state: inout DirectorState, table: inout IPVSTable, now: NIODeadline)
        -> [[String]]
    {
        var announced: [[String]] = []
        var pending = state.handle(event, now: now)
        while !pending.isEmpty {
            let action = pending.removeFirst()
            switch action {
            case .readKernel: pending = state.handle(.kernelRead(.success(table)), now: now) + pending
            case .apply(let changes):
                table = state.model.desired.table
                pending = state.handle(.applied(changes, .success(())), now: now) + pending
            case .announce(let addresses): announced.append(addresses.map(\.address))
            default: break
            }
        }
        return announced
    }

    func testTheVIPsGoOnTheAnnounceDeviceNotOnTheirInterface() throws {
        let runtime = try state().runtime
        XCTAssertEqual(runtime.virtualAddresses, [], "nothing on eth0: the routers reach the VIPs through BGP")
        XCTAssertEqual(runtime.announcements?.map { "\($0.address)" }, ["10.0.100.10/32 dev h2e0", "10.0.100.11/32 dev h2e0"])
        guard case .scaleOut(let device, let socket) = runtime.role else { return XCTFail("\(runtime.role)") }
        XCTAssertEqual(device, "h2e0")
        XCTAssertEqual(socket, "/run/bird/bird.ctl")
    }

    func testMhWithFallbackAndPortIsTheDefaultAndFailedServersStayAtWeightZero() throws {
        var state = try state()
        var table = IPVSTable()
        _ = run(.health(web1, .up), on: &state, table: &table)
        _ = run(.health(web2, .down(.connectionFailed("Connection refused"))), on: &state, table: &table)
        let web = try XCTUnwrap(table.services.first { "\($0.key)" == "TCP 10.0.100.10:80" })
        XCTAssertEqual(web.scheduler.rawValue, "mh")
        XCTAssertEqual(web.schedulerFlags, [.flag1, .flag2])
        XCTAssertEqual(web.destinations.map { "\($0.address):\($0.weight)" }, ["10.0.0.21:10", "10.0.0.22:0"],
            "web2 failed but keeps its place in mh's destination order, at weight 0")
        let api = try XCTUnwrap(table.services.first { "\($0.key)" == "TCP 10.0.100.11:80" })
        XCTAssertEqual(api.scheduler.rawValue, "sh", "a scheduler the operator names stays")
        XCTAssertEqual(api.schedulerFlags, [])
    }

    func testLoadWeightsLandOnAGridOfAQuarterOfTheConfiguredWeight() throws {
        var server = RealServer(name: "web1", address: try XCTUnwrap(IPAddress("10.0.0.21")))
        server.weight = 20
        func weight(_ decided: Int, scaleOut: Bool) -> Int? {
            DesiredTableMapper.plan(
                server, health: .up, weight: WeightDecision(weight: decided, reason: "load", changed: true), override: nil,
                quiesce: false, scaleOut: scaleOut
            ).weight
        }
        XCTAssertEqual([21, 22, 23, 27, 28, 3, 1].map { weight($0, scaleOut: true) }, [20, 20, 25, 25, 30, 5, 1],
            "steps of 5 for a configured 20: directors that compute 21 and 22 both program 20")
        XCTAssertEqual(weight(22, scaleOut: false), 22, "a pair programs what load feedback decided")
        XCTAssertEqual(weight(20, scaleOut: true), 20)
    }

    func testAnAddressIsAnnouncedOnceItsTableServesAndWithdrawnWhenNoServerIsLeft() throws {
        var state = try state()
        var table = IPVSTable()
        XCTAssertEqual(run(.reconcile, on: &state, table: &table), [[]],
            "programmed, but no server has passed a check yet: nothing announced")
        XCTAssertEqual(run(.health(web1, .up), on: &state, table: &table), [["10.0.100.10"]])
        XCTAssertEqual(run(.health(web2, .up), on: &state, table: &table), [], "no change, no action")
        XCTAssertEqual(run(.health(api1, .up), on: &state, table: &table), [["10.0.100.10", "10.0.100.11"]])
        XCTAssertEqual(run(.health(web1, .down(.connectionFailed("refused"))), on: &state, table: &table), [])
        XCTAssertEqual(run(.health(web2, .down(.connectionFailed("refused"))), on: &state, table: &table),
            [["10.0.100.11"]], "web has no serving server left: its VIP is withdrawn, api's stays")
        XCTAssertEqual(state.counters.announcements, 2)
        XCTAssertEqual(state.counters.withdrawals, 1)
        XCTAssertEqual(state.counters.announced, 1)
        let group = try XCTUnwrap(state.groupReport(bird: nil))
        XCTAssertEqual(group.announced, ["10.0.100.11"])
        XCTAssertEqual(group.notAnnounced.map(\.address), ["10.0.100.10"])
        XCTAssertTrue(group.notAnnounced[0].reason.contains("no real server of web passes"), group.notAnnounced[0].reason)
    }

    func testAnnouncingWaitsForTheKernelAndWithdrawingDoesNot() throws {
        var state = try state()
        var table = IPVSTable()
        _ = run(.reconcile, on: &state, table: &table)
        // web1 passes: nothing is announced until the kernel has its weight, and a failed apply announces nothing.
        var actions = state.handle(.health(web1, .up), now: start)
        XCTAssertFalse(actions.contains { if case .announce = $0 { true } else { false } })
        guard case .apply(let changes)? = actions.last else { return XCTFail("\(actions)") }
        actions = state.handle(.applied(changes, .failure(CallFailure("ENOMEM"))), now: start)
        XCTAssertFalse(actions.contains { if case .announce = $0 { true } else { false } })
        // The retry works: announced.
        XCTAssertEqual(run(.tick, on: &state, table: &table), [["10.0.100.10"]])
        // web1 fails: withdrawn before the kernel call that sets its weight to 0, which may fail or be slow.
        actions = state.handle(.health(web1, .down(.connectionFailed("refused"))), now: start + .seconds(2))
        let announce = actions.firstIndex { if case .announce = $0 { true } else { false } }
        let apply = actions.firstIndex { if case .apply = $0 { true } else { false } }
        XCTAssertEqual(actions[try XCTUnwrap(announce)], .announce([]))
        XCTAssertLessThan(try XCTUnwrap(announce), try XCTUnwrap(apply))
    }

    func testDrainWithdrawsEverythingIsSavedAndResumeAnnouncesAgain() throws {
        var state = try state()
        var table = IPVSTable()
        _ = run(.health(web1, .up), on: &state, table: &table)
        let drain = state.handle(.directorDrain(true), now: start)
        XCTAssertTrue(drain.contains(.saveDirectorDrain(true)))
        XCTAssertTrue(drain.contains(.announce([])))
        guard case .reply(.success(let message))? = drain.last else { return XCTFail("\(drain)") }
        XCTAssertTrue(message.contains("withdrawn"), message)
        XCTAssertEqual(run(.health(api1, .up), on: &state, table: &table), [], "a drained director announces nothing new")
        XCTAssertEqual(state.counters.drained, true)
        let resume = state.handle(.directorDrain(false), now: start)
        XCTAssertTrue(resume.contains(.saveDirectorDrain(false)))
        let announced = resume.compactMap { action -> [String]? in
            if case .announce(let addresses) = action { return addresses.map(\.address) }
            return nil
        }
        XCTAssertEqual(announced, [["10.0.100.10", "10.0.100.11"]])
    }

    func testADirectorThatWasDrainedStartsDrained() throws {
        var state = try state(drained: true)
        var table = IPVSTable()
        XCTAssertEqual(run(.health(web1, .up), on: &state, table: &table), [[]])
        XCTAssertTrue(try XCTUnwrap(state.groupReport(bird: nil)).notAnnounced.allSatisfy { $0.reason.contains("drained") })
    }

    func testDrainIsRefusedOutsideAScaleOutGroup() throws {
        let runtime = try RuntimeConfiguration.make(
            TestConfigurations.parse(TestConfigurations.web), file: "test.cf", localAddresses: [:]
        ).get()
        var state = DirectorState(runtime: runtime, backend: "memory", now: start)
        guard case .reply(.failure(let error))? = state.handle(.directorDrain(true), now: start).last else {
            return XCTFail("no refusal")
        }
        XCTAssertTrue("\(error)".contains("scale_out = 1"), "\(error)")
        XCTAssertNil(state.groupReport(bird: nil))
        XCTAssertNil(state.counters.announced)
    }
}
