import TestSupport
import XCTest

@testable import Heartbeat

typealias Machine = PeerStateMachine<TestInstant>

/// Two directors wired back to back over `links` heartbeat links with zero latency, driven by a manual clock.
struct DirectorPair {
    var machines: [Machine?]
    var configurations: [Machine.Configuration]
    var timers: [TestInstant?] = [nil, nil]
    var now = TestInstant.zero
    /// Per link: whether it carries datagrams.
    var linkUp: [Bool]
    /// Every role change: (time, director, role, reason).
    var history: [(TestInstant, Int, Machine.Role, Machine.Reason)] = []
    /// An active director told to become active again: it announces its addresses again.
    var reannouncements: [(TestInstant, Int, Machine.Reason)] = []
    /// Grows across restarts, as the senders' wall clocks do.
    var sequence: UInt64 = 0
    /// Every heartbeat delivered: (to, link, message), for replay tests.
    var wire: [(to: Int, link: Int, message: HeartbeatMessage)] = []

    init(_ a: Machine.Configuration, _ b: Machine.Configuration) {
        configurations = [a, b]
        machines = [Machine(configuration: a), Machine(configuration: b)]
        linkUp = Array(repeating: true, count: a.linkCount)
    }

    func role(_ index: Int) -> Machine.Role? { machines[index]?.role }

    mutating func start(_ index: Int) {
        if machines[index] == nil { machines[index] = Machine(configuration: configurations[index]) }
        perform(index, machines[index]!.start(now: now))
    }

    /// Crash: the director vanishes without a word.
    mutating func crash(_ index: Int) {
        machines[index] = nil
        timers[index] = nil
    }

    mutating func stop(_ index: Int) {
        perform(index, machines[index]!.stop(now: now))
        machines[index] = nil
        timers[index] = nil
    }

    mutating func setLocalLinks(_ index: Int, up: Bool) {
        perform(index, machines[index]!.localLinksChanged(up: up, now: now))
    }

    mutating func setServicesFailed(_ index: Int, _ failed: Bool) {
        perform(index, machines[index]!.servicesChanged(failed: failed, now: now))
    }

    /// Advances the clock to `end`, firing every timer when due.
    mutating func run(until end: TestInstant) {
        while true {
            let due = timers.enumerated().compactMap { i, t in t.map { (i, $0) } }.filter { $0.1 <= end }
                .min { $0.1 < $1.1 }
            guard let (index, at) = due else { break }
            now = max(now, at)
            timers[index] = nil
            perform(index, machines[index]!.timerFired(now: now))
        }
        now = end
    }

    mutating func run(for duration: Duration) { run(until: now.advanced(by: duration)) }

    private mutating func perform(_ index: Int, _ first: [Machine.Action]) {
        var queue = [(index, first)]
        while !queue.isEmpty {
            let (i, actions) = queue.removeFirst()
            for action in actions {
                switch action {
                case .scheduleTimer(let at): timers[i] = at
                case .becomeActive(let reason):
                    // Already active: the addresses announced again (a healed split brain), not a change of role.
                    if history.last(where: { $0.1 == i })?.2 == .active {
                        reannouncements.append((now, i, reason))
                    } else {
                        history.append((now, i, .active, reason))
                    }
                case .becomeBackup(let reason): history.append((now, i, .backup, reason))
                case .sendHeartbeat(let state, let fit):
                    let other = 1 - i
                    guard machines[other] != nil else { continue }
                    for link in linkUp.indices where linkUp[link] {
                        sequence += 1
                        let message = HeartbeatMessage(
                            state: state, configuredRole: configurations[i].role, fit: fit, link: UInt8(link),
                            senderID: configurations[i].senderID, sequence: sequence, bootID: machines[i]!.nonce,
                            echo: machines[i]!.echo)
                        wire.append((other, link, message))
                        queue.append((other, machines[other]!.heartbeatReceived(message, link: link, now: now)))
                    }
                }
            }
        }
    }

    /// Delivers `message` to director `index` as if it came off the wire (a replay), performing its answer.
    mutating func inject(_ message: HeartbeatMessage, to index: Int, link: Int = 0) {
        guard machines[index] != nil else { return }
        perform(index, machines[index]!.heartbeatReceived(message, link: link, now: now))
    }

    func changes(after instant: TestInstant) -> Int { history.filter { $0.0 > instant }.count }
}

final class PeerStateMachineTests: XCTestCase {
    func config(
        _ role: ConfiguredRole, id: UInt64, keepalive: Double = 1, deadtime: Double = 3, links: Int = 1,
        monitor: Bool = false
    ) -> Machine.Configuration {
        try! Machine.Configuration(
            role: role, senderID: id, keepalive: .milliseconds(Int64(keepalive * 1000)),
            deadtime: .milliseconds(Int64(deadtime * 1000)), linkCount: links, monitorLinks: monitor)
    }

    // MARK: one director

    func testStartsAsBackupAndAnnouncesIt() {
        var m = Machine(configuration: config(.primary, id: 1))
        XCTAssertNil(m.role)
        XCTAssertEqual(
            m.start(now: .zero),
            [.becomeBackup(.starting), .sendHeartbeat(.backup, fit: true), .scheduleTimer(at: .seconds(1))])
        XCTAssertEqual(m.role, .backup)
        XCTAssertEqual(m.start(now: .seconds(0.5)), [], "a second start is ignored")
    }

    func testSendsEveryKeepaliveIncludingFractions() {
        var m = Machine(configuration: config(.backup, id: 2, keepalive: 0.25, deadtime: 100))
        _ = m.start(now: .zero)
        var sends: [TestInstant] = []
        var t = TestInstant.zero
        for _ in 0..<8 {
            let actions = m.timerFired(now: t)
            if actions.contains(.sendHeartbeat(.backup, fit: true)) { sends.append(t) }
            guard case .scheduleTimer(let next)? = actions.last else { return XCTFail("no timer: \(actions)") }
            t = next
        }
        XCTAssertEqual(sends, [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75].map { TestInstant.seconds($0) })
        XCTAssertEqual(m.timerFired(now: .seconds(1.9)).filter { $0 == .sendHeartbeat(.backup, fit: true) }, [],
            "an early timer sends nothing")
    }

    func testLateTimerDoesNotBurst() {
        var m = Machine(configuration: config(.backup, id: 2, keepalive: 1, deadtime: 100))
        _ = m.start(now: .zero)
        let late = m.timerFired(now: .seconds(10.5))
        XCTAssertEqual(late.filter { if case .sendHeartbeat = $0 { true } else { false } }.count, 1)
        XCTAssertEqual(late.last, .scheduleTimer(at: .seconds(11.5)))
    }

    func testAloneTakesOverExactlyAtDeadtime() {
        var m = Machine(configuration: config(.backup, id: 2, deadtime: 3))
        _ = m.start(now: .zero)
        XCTAssertFalse(m.timerFired(now: .seconds(2.999)).contains(.becomeActive(.peerDead)))
        XCTAssertEqual(m.role, .backup)
        let actions = m.timerFired(now: .seconds(3))
        XCTAssertEqual(Array(actions.prefix(2)), [.becomeActive(.peerDead), .sendHeartbeat(.active, fit: true)])
        XCTAssertEqual(m.role, .active)
    }

    func testTimerWakesAtPeerDeadlineWhenEarlierThanNextSend() {
        var m = Machine(configuration: config(.backup, id: 2, keepalive: 2, deadtime: 2.5))
        _ = m.start(now: .zero)
        let peer = HeartbeatMessage(state: .active, configuredRole: .primary, senderID: 1, sequence: 1, bootID: 1, echo: m.nonce)
        XCTAssertEqual(m.heartbeatReceived(peer, link: 0, now: .seconds(1.9)).last, .scheduleTimer(at: .seconds(2)))
        _ = m.timerFired(now: .seconds(2))
        XCTAssertEqual(m.timerFired(now: .seconds(2)).last, .scheduleTimer(at: .seconds(4)))
        XCTAssertEqual(m.peerDeadline, .seconds(4.4))
        var actions = m.timerFired(now: .seconds(4))
        XCTAssertEqual(actions.last, .scheduleTimer(at: .seconds(4.4)))
        actions = m.timerFired(now: .seconds(4.4))
        XCTAssertEqual(actions.first, .becomeActive(.peerDead))
    }

    func testIgnoresOwnSenderIDAndUnknownLinks() {
        var m = Machine(configuration: config(.backup, id: 2, links: 2))
        _ = m.start(now: .zero)
        let own = HeartbeatMessage(state: .active, configuredRole: .backup, senderID: 2, sequence: 1, bootID: 1, echo: m.nonce)
        XCTAssertEqual(m.heartbeatReceived(own, link: 0, now: .seconds(1)), [])
        let peer = HeartbeatMessage(state: .active, configuredRole: .primary, senderID: 1, sequence: 1, bootID: 1, echo: m.nonce)
        XCTAssertEqual(m.heartbeatReceived(peer, link: 2, now: .seconds(1)), [])
        XCTAssertNil(m.peer)
    }

    func testConfigurationValidation() {
        XCTAssertThrowsError(try Machine.Configuration(role: .primary, senderID: 1, keepalive: .zero, deadtime: .seconds(1)))
        XCTAssertThrowsError(try Machine.Configuration(role: .primary, senderID: 1, keepalive: .seconds(2), deadtime: .seconds(2))) {
            XCTAssertTrue("\($0)".contains("greater than keepalive"))
        }
        XCTAssertThrowsError(try Machine.Configuration(role: .primary, senderID: 1, linkCount: 0))
        XCTAssertNoThrow(try Machine.Configuration(role: .primary, senderID: 1, keepalive: .milliseconds(100), deadtime: .milliseconds(250)))
    }

    func testStopWhileActiveGivesUpAndAnnouncesStopping() {
        var m = Machine(configuration: config(.backup, id: 2))
        _ = m.start(now: .zero)
        _ = m.timerFired(now: .seconds(3))
        XCTAssertEqual(m.role, .active)
        XCTAssertEqual(m.stop(now: .seconds(4)), [.becomeBackup(.shuttingDown), .sendHeartbeat(.stopping, fit: true)])
        XCTAssertNil(m.role)
        XCTAssertEqual(m.timerFired(now: .seconds(5)), [])
        XCTAssertEqual(m.stop(now: .seconds(5)), [])
    }

    // MARK: two directors

    func testSimultaneousStartPrimaryBecomesActiveAtOnceAndNothingFlaps() {
        var pair = DirectorPair(config(.primary, id: 1), config(.backup, id: 2))
        pair.start(0)
        pair.start(1)
        XCTAssertEqual(pair.role(0), .active)
        XCTAssertEqual(pair.role(1), .backup)
        XCTAssertEqual(pair.history.last?.3, .outranksBackupPeer)
        pair.run(for: .seconds(120))
        XCTAssertEqual(pair.changes(after: .zero), 0)
    }

    func testBackupStartedAloneTakesOverAndRecoveredPrimaryDoesNotPreempt() {
        var pair = DirectorPair(config(.primary, id: 1), config(.backup, id: 2))
        pair.start(1)
        pair.run(for: .seconds(3))
        XCTAssertEqual(pair.role(1), .active)
        pair.run(for: .seconds(1))
        pair.start(0)
        XCTAssertEqual(pair.role(0), .backup)
        pair.run(for: .seconds(120))
        XCTAssertEqual(pair.role(0), .backup)
        XCTAssertEqual(pair.role(1), .active)
        XCTAssertEqual(pair.changes(after: .seconds(3)), 1, "only the primary's own start")
    }

    func testCrashOfActiveIsDetectedWithinDeadtime() {
        var pair = DirectorPair(config(.primary, id: 1), config(.backup, id: 2))
        pair.start(0)
        pair.start(1)
        pair.run(for: .seconds(10.3))
        pair.crash(0)
        let crashedAt = pair.now
        // The primary's last heartbeat went at t=10: the deadline is t=13.
        pair.run(until: .seconds(12.999))
        XCTAssertEqual(pair.role(1), .backup, "not before deadtime")
        pair.run(until: .seconds(13))
        XCTAssertEqual(pair.role(1), .active)
        let (at, who, _, reason) = pair.history.last!
        XCTAssertEqual(who, 1)
        XCTAssertEqual(reason, .peerDead)
        XCTAssertLessThanOrEqual(crashedAt.duration(to: at), .seconds(3))
    }

    func testStoppingPeerIsTakenOverAtOnce() {
        var pair = DirectorPair(config(.primary, id: 1), config(.backup, id: 2))
        pair.start(0)
        pair.start(1)
        pair.run(for: .seconds(5.5))
        let stoppedAt = pair.now
        pair.stop(0)
        XCTAssertEqual(pair.role(1), .active)
        XCTAssertEqual(pair.history.last!.0, stoppedAt)
        XCTAssertEqual(pair.history.last!.3, .peerStopping)
        XCTAssertEqual(pair.history.filter { $0.1 == 0 }.last?.3, .shuttingDown)
    }

    func testStoppingBackupChangesNothingForActive() {
        var pair = DirectorPair(config(.primary, id: 1), config(.backup, id: 2))
        pair.start(0)
        pair.start(1)
        pair.stop(1)
        pair.run(for: .seconds(30))
        XCTAssertEqual(pair.role(0), .active)
        XCTAssertEqual(pair.history.filter { $0.1 == 0 }.count, 2)
    }

    func testCuttingOneOfTwoLinksCausesNoTakeover() {
        for cut in 0..<2 {
            var pair = DirectorPair(config(.primary, id: 1, links: 2), config(.backup, id: 2, links: 2))
            pair.start(0)
            pair.start(1)
            pair.run(for: .seconds(2))
            pair.linkUp[cut] = false
            pair.run(for: .seconds(60))
            XCTAssertEqual(pair.role(0), .active)
            XCTAssertEqual(pair.role(1), .backup, "link \(cut) cut")
            XCTAssertEqual(pair.changes(after: .zero), 0)
            XCTAssertEqual(pair.machines[1]!.silentLinks(now: pair.now), [cut])
            // Cutting the other one too is a partition: the backup takes over after deadtime.
            pair.linkUp[1 - cut] = false
            pair.run(for: .seconds(3.1))
            XCTAssertEqual(pair.role(1), .active)
        }
    }

    func testHealedPartitionResolvesToPrimaryWithoutFlapping() {
        var pair = DirectorPair(config(.primary, id: 1), config(.backup, id: 2))
        pair.start(0)
        pair.start(1)
        pair.run(for: .seconds(2))
        pair.linkUp = [false]
        pair.run(for: .seconds(10))
        XCTAssertEqual(pair.role(0), .active)
        XCTAssertEqual(pair.role(1), .active, "split brain while partitioned")
        let healedAt = pair.now
        pair.linkUp = [true]
        pair.run(for: .seconds(1))
        XCTAssertEqual(pair.role(0), .active)
        XCTAssertEqual(pair.role(1), .backup)
        XCTAssertEqual(pair.history.last!.3, .peerOutranks)
        XCTAssertEqual(
            pair.reannouncements.filter { $0.0 > healedAt }.map(\.1), [0],
            "the remaining active director announces its addresses again, once")
        pair.run(for: .seconds(120))
        XCTAssertEqual(pair.changes(after: healedAt), 1, "exactly one step-down, then stable")
    }

    /// keepalived#2387: after a split brain the remaining active director announces its addresses again, since the
    /// peer's announcements may have moved the clients while both were active.
    func testTheRemainingActiveAnnouncesAgainWhenTheOtherActiveStepsDown() {
        var m = Machine(configuration: config(.primary, id: 1))
        _ = m.start(now: .zero)
        _ = m.timerFired(now: .seconds(3))
        XCTAssertEqual(m.role, .active)
        let active = HeartbeatMessage(state: .active, configuredRole: .backup, senderID: 2, sequence: 1, bootID: 7, echo: m.nonce)
        XCTAssertFalse(m.heartbeatReceived(active, link: 0, now: .seconds(4)).contains(.becomeActive(.peerSteppedDown)))
        let steppedDown = HeartbeatMessage(state: .backup, configuredRole: .backup, senderID: 2, sequence: 2, bootID: 7, echo: m.nonce)
        XCTAssertEqual(m.heartbeatReceived(steppedDown, link: 0, now: .seconds(4.1)).first, .becomeActive(.peerSteppedDown))
        XCTAssertEqual(m.role, .active)
        let again = HeartbeatMessage(state: .backup, configuredRole: .backup, senderID: 2, sequence: 3, bootID: 7, echo: m.nonce)
        XCTAssertFalse(m.heartbeatReceived(again, link: 0, now: .seconds(5)).contains(.becomeActive(.peerSteppedDown)), "once")
    }

    /// The same after a partition whose loser heard this director first: the first message of the peer to get
    /// through already says backup. Heard again after deadtime, it may have announced the addresses: announce again.
    func testTheActiveAnnouncesAgainWhenThePeerReturnsFromASilenceAlreadyBackup() {
        var m = Machine(configuration: config(.primary, id: 1))
        _ = m.start(now: .zero)
        _ = m.timerFired(now: .seconds(3))
        XCTAssertEqual(m.role, .active)
        let backup = { (sequence: UInt64) in
            HeartbeatMessage(state: .backup, configuredRole: .backup, senderID: 2, sequence: sequence, bootID: 7, echo: m.nonce)
        }
        XCTAssertFalse(m.heartbeatReceived(backup(1), link: 0, now: .seconds(4)).contains { if case .becomeActive = $0 { true } else { false } },
            "first contact: nothing to undo")
        XCTAssertFalse(m.heartbeatReceived(backup(2), link: 0, now: .seconds(6.9)).contains { if case .becomeActive = $0 { true } else { false } },
            "heard within deadtime")
        _ = m.timerFired(now: .seconds(12))
        XCTAssertEqual(m.heartbeatReceived(backup(3), link: 0, now: .seconds(12)).first, .becomeActive(.peerReturned))
        XCTAssertEqual(m.role, .active)
        XCTAssertFalse(m.heartbeatReceived(backup(4), link: 0, now: .seconds(13)).contains { if case .becomeActive = $0 { true } else { false } }, "once")
    }

    func testSameConfiguredRoleTieBreaksOnLowerSenderID() {
        for (a, b) in [(UInt64(5), UInt64(3)), (3, 5)] {
            var pair = DirectorPair(config(.backup, id: a), config(.backup, id: b))
            pair.start(0)
            pair.start(1)
            pair.run(for: .seconds(1))
            let winner = a < b ? 0 : 1
            XCTAssertEqual(pair.role(winner), .active)
            XCTAssertEqual(pair.role(1 - winner), .backup)
            // And after a partition heals.
            pair.linkUp = [false]
            pair.run(for: .seconds(10))
            pair.linkUp = [true]
            pair.run(for: .seconds(30))
            XCTAssertEqual(pair.role(winner), .active)
            XCTAssertEqual(pair.role(1 - winner), .backup)
        }
    }

    func testUnfitDirectorNeverTakesOver() {
        var pair = DirectorPair(config(.primary, id: 1, monitor: true), config(.backup, id: 2, monitor: true))
        pair.start(0)
        pair.start(1)
        pair.setLocalLinks(1, up: false)
        pair.crash(0)
        pair.run(for: .seconds(30))
        XCTAssertEqual(pair.role(1), .backup)
        pair.setLocalLinks(1, up: true)
        XCTAssertEqual(pair.role(1), .active)
        XCTAssertEqual(pair.history.last!.3, .peerDead)
    }

    func testActiveWhoseLinksFailHandsOverAtOnceAndStaysBackup() {
        var pair = DirectorPair(config(.primary, id: 1, monitor: true), config(.backup, id: 2, monitor: true))
        pair.start(0)
        pair.start(1)
        pair.run(for: .seconds(4.2))
        let before = pair.history.count
        pair.setLocalLinks(0, up: false)
        XCTAssertEqual(pair.role(0), .backup)
        XCTAssertEqual(pair.role(1), .active)
        XCTAssertEqual(pair.history.suffix(2).map(\.3), [.ownLinksDown, .peerUnfit])
        pair.run(for: .seconds(10))
        pair.setLocalLinks(0, up: true)
        pair.run(for: .seconds(60))
        XCTAssertEqual(pair.role(0), .backup, "no failback")
        XCTAssertEqual(pair.role(1), .active)
        XCTAssertEqual(pair.history.count - before, 2)
    }

    func testUnfitActiveKeepsVIPsWhenPeerIsDead() {
        var pair = DirectorPair(config(.primary, id: 1, monitor: true), config(.backup, id: 2, monitor: true))
        pair.start(0)
        pair.start(1)
        pair.crash(1)
        pair.run(for: .seconds(3))
        pair.setLocalLinks(0, up: false)
        pair.run(for: .seconds(30))
        XCTAssertEqual(pair.role(0), .active)
        XCTAssertEqual(pair.history.count, 3, "backup at start, active, then nothing")
    }

    func testLinkMonitoringOffIgnoresLinkChanges() {
        var m = Machine(configuration: config(.backup, id: 2, monitor: false))
        _ = m.start(now: .zero)
        XCTAssertEqual(m.localLinksChanged(up: false, now: .seconds(1)), [])
        XCTAssertTrue(m.fit)
        XCTAssertTrue(m.timerFired(now: .seconds(3)).contains(.becomeActive(.peerDead)))
    }

    func testLinkChangeIsAnnouncedAtOnce() {
        var m = Machine(configuration: config(.backup, id: 2, monitor: true))
        _ = m.start(now: .zero)
        XCTAssertEqual(m.localLinksChanged(up: false, now: .seconds(0.5)).first, .sendHeartbeat(.backup, fit: false))
        XCTAssertEqual(m.localLinksChanged(up: false, now: .seconds(0.6)), [], "no change, no message")
    }

    // MARK: session nonces

    /// A message that does not echo this run's nonce proves nothing: no deadline moves, no role. Its nonce is learned
    /// and answered at once (the handshake); the answer to the echoing message that follows is the normal course.
    func testOnlyAMessageEchoingTheNonceProvesThePeerAlive() {
        var m = Machine(configuration: config(.backup, id: 2), nonce: 0xB0B)
        _ = m.start(now: .zero)
        let first = HeartbeatMessage(state: .active, configuredRole: .primary, senderID: 1, sequence: 10, bootID: 0xA, echo: 0)
        XCTAssertEqual(m.heartbeatReceived(first, link: 0, now: .seconds(1)), [.sendHeartbeat(.backup, fit: true)])
        XCTAssertEqual(m.echo, 0xA)
        XCTAssertFalse(m.isPeerAlive(now: .seconds(1)))
        XCTAssertNil(m.peer)
        // The same nonce again, still not echoing: nothing to answer.
        var again = first
        again.sequence = 11
        XCTAssertEqual(m.heartbeatReceived(again, link: 0, now: .seconds(1.5)), [])
        var live = first
        live.sequence = 12
        live.echo = 0xB0B
        _ = m.heartbeatReceived(live, link: 0, now: .seconds(2))
        XCTAssertTrue(m.isPeerAlive(now: .seconds(2)))
        XCTAssertEqual(m.peer?.state, .active)
        XCTAssertEqual(m.peerDeadline, .seconds(5))
    }

    /// Replays of an earlier run of the peer (lower sequences: the peer's clock moved on) cannot make this director
    /// echo a stale nonce once the peer's current run has been heard.
    func testReplaysDoNotChangeTheEchoedNonce() {
        var m = Machine(configuration: config(.backup, id: 2), nonce: 0xB0B)
        _ = m.start(now: .zero)
        let current = HeartbeatMessage(state: .active, configuredRole: .primary, senderID: 1, sequence: 2_000, bootID: 0xA2, echo: 0)
        _ = m.heartbeatReceived(current, link: 0, now: .seconds(1))
        let old = HeartbeatMessage(state: .active, configuredRole: .primary, senderID: 1, sequence: 1_000, bootID: 0xA1, echo: 0xB0B)
        // Even one that happens to echo the current nonce (captured during this run, from an earlier peer run) is
        // answered with nothing new: the echo stays the peer's current nonce.
        _ = m.heartbeatReceived(old, link: 0, now: .seconds(1.1))
        XCTAssertEqual(m.echo, 0xA2)
    }

    /// Issue 15 item 3: heartbeats of the primary captured before both directors were killed, replayed to the
    /// restarted backup every 0.2 s, do not delay its takeover: it becomes active at deadtime, as when alone.
    func testReplaysAfterARestartDoNotDelayTheTakeover() {
        var pair = DirectorPair(config(.primary, id: 1), config(.backup, id: 2))
        pair.start(0)
        pair.start(1)
        pair.run(for: .seconds(10))
        XCTAssertEqual(pair.role(0), .active)
        XCTAssertEqual(pair.role(1), .backup)
        let captured = pair.wire.filter { $0.to == 1 }.map(\.message)
        XCTAssertGreaterThan(captured.count, 5)
        pair.crash(0)
        pair.crash(1)
        pair.run(for: .seconds(1))
        pair.start(1)
        let restarted = pair.now
        var replays = 0
        while pair.now < restarted.advanced(by: .seconds(10)) {
            for message in captured { pair.inject(message, to: 1) }
            replays += captured.count
            pair.run(for: .milliseconds(200))
        }
        XCTAssertGreaterThan(replays, 500)
        let takeover = pair.history.first { $0.1 == 1 && $0.2 == .active }
        XCTAssertEqual(takeover?.0, restarted.advanced(by: .seconds(3)), "\(pair.history)")
        XCTAssertEqual(takeover?.3, .peerDead)
        XCTAssertEqual(pair.role(1), .active)
    }

    /// Two freshly started directors converge at once (the handshake answers), whatever the order; and a director
    /// restarted while the other runs is heard again without waiting for a keepalive.
    func testHandshakeConvergesWithinARoundTrip() {
        var pair = DirectorPair(config(.primary, id: 1), config(.backup, id: 2))
        pair.start(1)
        pair.run(for: .seconds(0.5))
        pair.start(0)
        XCTAssertEqual(pair.role(0), .active)
        XCTAssertEqual(pair.role(1), .backup)
        XCTAssertTrue(pair.machines[0]!.isPeerAlive(now: pair.now))
        XCTAssertTrue(pair.machines[1]!.isPeerAlive(now: pair.now))
        pair.run(for: .seconds(5))
        // The backup restarts: both sides hear the new run at once.
        pair.crash(1)
        pair.start(1)
        XCTAssertEqual(pair.machines[0]!.echo, pair.machines[1]!.nonce)
        XCTAssertEqual(pair.machines[1]!.echo, pair.machines[0]!.nonce)
        XCTAssertTrue(pair.machines[1]!.isPeerAlive(now: pair.now))
        let mark = pair.now
        pair.run(for: .seconds(10))
        XCTAssertEqual(pair.changes(after: mark), 0, "\(pair.history)")
        XCTAssertEqual(pair.role(0), .active)
    }

    // MARK: rejection log

    func testRejectionLogReportsOncePerIntervalWithCountsPerReason() {
        var log = HeartbeatRejectionLog<TestInstant>(interval: .seconds(10))
        XCTAssertNil(log.nextFlush)
        // The first rejection is reported at once.
        XCTAssertEqual(log.record([.badMAC: 1], now: .seconds(1))?.counts, [.badMAC: 1])
        // A flood within the interval: summed, no line.
        for i in 0..<5_000 {
            XCTAssertNil(log.record([.badMAC: 1], now: .seconds(1 + Double(i) * 0.0009)))
        }
        // A new kind of rejection in the middle of it is reported at once, with what was pending; then both are
        // summed again.
        XCTAssertEqual(log.record([.wrongVersion: 1], now: .seconds(5.5))?.counts, [.badMAC: 5_000, .wrongVersion: 1])
        for i in 0..<5_000 {
            XCTAssertNil(log.record([.badMAC: 1, .wrongVersion: i % 2], now: .seconds(5.5 + Double(i) * 0.0009)))
        }
        XCTAssertEqual(log.nextFlush, .seconds(11))
        XCTAssertNil(log.flush(now: .seconds(10.9)))
        let summary = log.flush(now: .seconds(11))
        XCTAssertEqual(summary?.counts, [.badMAC: 5_000, .wrongVersion: 2_500])
        XCTAssertTrue(summary!.description.hasPrefix("2500 wrongVersion, 5000 badMAC ("), summary!.description)
        XCTAssertTrue(summary!.description.contains("upgrade both directors"))
        XCTAssertNil(log.flush(now: .seconds(30)))
        XCTAssertNil(log.nextFlush)
        // After a quiet interval the next one is reported at once again.
        XCTAssertEqual(log.record([.replay: 2], now: .seconds(40))?.counts, [.replay: 2])
    }
}
