import Foundation
import Logging
import NIOCore
import XCTest
@testable import LoadAgent

/// The kept answers, refreshed at injected instants over fake /proc and a real state directory.
final class LoadAnswersTests: XCTestCase {
    var proc: TemporaryDirectory!
    var state: TemporaryDirectory!
    var answers: LoadAnswers!
    let start = NIODeadline.uptimeNanoseconds(5_000_000_000_000)
    let now = 1_800_000_000

    override func setUp() async throws {
        proc = try TemporaryDirectory()
        state = try TemporaryDirectory()
        try proc.write("stat", ProcFixtures.stat)
        answers = LoadAnswers(
            store: RRDStore(directory: state.path), serverID: "web5",
            reader: CPUReader(source: .host, procRoot: proc.path), logger: Logger(label: "test"))
    }

    func object(_ response: LoadResponder.Response) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    func testBeforeTheFirstRefreshAndWithoutASample() throws {
        XCTAssertEqual(answers.loadJSON.status, 503)
        answers.refresh(at: start, now: now)
        XCTAssertEqual(answers.load.status, 503)
        XCTAssertTrue(String(decoding: answers.load.body, as: UTF8.self).contains("no sample yet"))
        let json = try object(answers.loadJSON)
        XCTAssertEqual(json["error"] as? String, "no sample yet")
        XCTAssertTrue(json["live"] is NSNull, "one reading: no window yet")
        try proc.write("stat", ProcFixtures.statLater)
        answers.refresh(at: start + .seconds(1), now: now + 1)
        let live = try XCTUnwrap(try object(answers.loadJSON)["live"] as? [String: Any])
        XCTAssertEqual(live["source"] as? String, "host")
    }

    func testTheLiveFigureAndTheSampleTogether() throws {
        try recordSample(into: state, at: now, loadavg: "0.84 0.5 0.3 1/1 1")
        answers.refresh(at: start, now: now + 5)
        let first = try object(answers.loadJSON)
        XCTAssertEqual(first["load"] as? Double, 0.42)
        XCTAssertEqual(first["age"] as? Int, 5)
        XCTAssertTrue(first["live"] is NSNull)
        XCTAssertEqual(String(decoding: answers.load.body, as: UTF8.self), "0.420000\n")

        try proc.write("stat", ProcFixtures.statLater)  // 400 of 1000 jiffies busy
        answers.refresh(at: start + .seconds(2), now: now + 7)
        let second = try object(answers.loadJSON)
        XCTAssertEqual(second["age"] as? Int, 7, "rebuilt with the refresh's time")
        let live = try XCTUnwrap(second["live"] as? [String: Any])
        XCTAssertEqual(live["window"] as? Double, 2)
        XCTAssertEqual(live["source"] as? String, "host")
        XCTAssertTrue(live["cgroup"] is NSNull)
        XCTAssertEqual(live["capacity"] as? Double, 2)
        XCTAssertEqual(live["usage"] as? Double, 0.8)
        XCTAssertEqual(live["figure"] as? Double, 0.4)
    }

    func testANewSampleIsPickedUpAtTheNextRefresh() throws {
        try recordSample(into: state, at: now - 60, loadavg: "1.00 1 1 1/1 1")
        answers.refresh(at: start, now: now)
        XCTAssertEqual(try object(answers.loadJSON)["load"] as? Double, 0.5)
        try recordSample(into: state, at: now, loadavg: "3.00 1 1 1/1 1")
        XCTAssertEqual(try object(answers.loadJSON)["load"] as? Double, 0.5, "until the next refresh")
        answers.refresh(at: start + .seconds(1), now: now + 1)
        XCTAssertEqual(try object(answers.loadJSON)["load"] as? Double, 1.5)
        XCTAssertEqual(String(decoding: answers.load.body, as: UTF8.self), "1.500000\n")
    }

    func testASampleReadBetweenTwoFilesUpdatesIsReadAgain() throws {
        try recordSample(into: state, at: now, loadavg: "1.00 1 1 1/1 1")
        answers.refresh(at: start, now: now)
        let store = RRDStore(directory: state.path)
        // A refresh between the updates of load.rrd and load1.rrd sees a torn sample: no load figure.
        try store.update(.load, [(now + 1, 2)])
        answers.refresh(at: start + .seconds(1), now: now + 1)
        XCTAssertTrue(try object(answers.loadJSON)["load"] is NSNull)
        try store.update(.load1, [(now + 1, 2)])
        try store.update(.cpus, [(now + 1, 1)])
        answers.refresh(at: start + .seconds(2), now: now + 2)
        XCTAssertEqual(try object(answers.loadJSON)["load"] as? Double, 2, "the other files' updates are noticed")
    }

    func testAnUnreadableSourceGivesNoFigureAndRecovers() throws {
        try recordSample(into: state, at: now, loadavg: "1.00 1 1 1/1 1")
        answers.refresh(at: start, now: now)
        try proc.write("stat", "garbage\n")
        answers.refresh(at: start + .seconds(1), now: now + 1)
        let json = try object(answers.loadJSON)
        XCTAssertEqual(json["load"] as? Double, 0.5, "the sample is still served")
        XCTAssertTrue(json["live"] is NSNull)
        try proc.write("stat", ProcFixtures.stat)
        answers.refresh(at: start + .seconds(2), now: now + 2)
        try proc.write("stat", ProcFixtures.statLater)
        answers.refresh(at: start + .seconds(3), now: now + 3)
        XCTAssertNotNil(try object(answers.loadJSON)["live"] as? [String: Any])
    }
}
