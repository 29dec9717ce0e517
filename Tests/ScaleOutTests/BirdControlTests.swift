import Foundation
import TestSupport
import XCTest

@testable import ScaleOut

/// ``BirdControl`` and ``BirdStatus`` against a real BIRD 2 (Debian's bird2), run by the test in a network namespace
/// of its own: a BGP session to a neighbour that never answers, and BFD.
final class BirdControlTests: XCTestCase {
    var directory = ""
    var namespace = ""

    override func setUp() async throws {
        guard getuid() == 0 else { throw unavailable("needs root for a network namespace") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/bird") else {
            throw unavailable("bird2 is not installed (scripts/apt/scaleout.list)")
        }
        directory = try shell("mktemp -d /tmp/h2e-bird.XXXXXX").output.trimmingCharacters(in: .whitespacesAndNewlines)
        namespace = "h2e-bird-\(getpid())"
        let config = """
            router id 10.9.0.1;
            protocol device { }
            protocol direct { ipv4; interface "h2e0"; }
            protocol bfd { interface "*" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; }
            protocol bgp upstream {
                local 10.9.0.1 as 65001;
                neighbor 10.9.0.2 as 65000;
                bfd on;
                ipv4 { import none; export where source = RTS_DEVICE; };
            }
            """
        try config.write(toFile: "\(directory)/bird.conf", atomically: true, encoding: .utf8)
        let up = try shell(
            "ip netns add \(namespace) && ip -n \(namespace) link set lo up && "
                + "ip -n \(namespace) link add veth0 type veth peer name veth1 && "
                + "ip -n \(namespace) addr add 10.9.0.1/24 dev veth0 && ip -n \(namespace) link set veth0 up && "
                + "ip -n \(namespace) link set veth1 up && "
                + "ip netns exec \(namespace) bird -c \(directory)/bird.conf -s \(directory)/bird.ctl -P \(directory)/bird.pid")
        guard up.status == 0 else {
            XCTFail("cannot start bird: \(up.output)")
            throw CancellationError()
        }
    }

    override func tearDown() async throws {
        guard !namespace.isEmpty else { return }
        // Everything in the namespace is this test's BIRD: kill -9 it all (a daemon's own pid file may name its
        // parent) and wait until it is gone, then remove the namespace.
        _ = try? shell(
            "pids=$(ip netns pids \(namespace)); [ -n \"$pids\" ] && kill -9 $pids; "
                + "for i in $(seq 100); do [ -z \"$(ip netns pids \(namespace))\" ] && break; sleep 0.05; done; "
                + "ip netns del \(namespace); rm -rf \(directory)")
    }

    func testStatusListsTheSessionsAsBirdcDoes() async throws {
        let socket = "\(directory)/bird.ctl"
        var status: BirdStatus?
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            // BIRD creates its socket once it has read the configuration.
            if let read = try? BirdStatus.read(socket: socket), read.protocols.contains(where: { $0.name == "upstream" }),
                !read.bfdSessions.isEmpty
            {
                status = read
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let read = try XCTUnwrap(status, "BIRD did not answer within 10 s")
        XCTAssertEqual(Set(read.protocols.map(\.name)), ["device1", "direct1", "bfd1", "upstream"])
        let bgp = try XCTUnwrap(read.protocols.first { $0.name == "upstream" })
        XCTAssertEqual(bgp.proto, "BGP")
        XCTAssertEqual(bgp.state, "start", "the neighbour never answers")
        XCTAssertFalse(bgp.info.contains("Established"))
        XCTAssertEqual(read.bgpDown, ["upstream"])
        XCTAssertEqual(read.protocols.first { $0.name == "device1" }?.state, "up")
        // The same as birdc says.
        let birdc = try shell("birdc -s \(socket) show protocols").output
        XCTAssertTrue(birdc.contains("upstream"), birdc)
        XCTAssertEqual(read.bfdSessions.map(\.address), ["10.9.0.2"], "BGP asked BFD to watch its neighbour")
        XCTAssertEqual(read.bfdSessions.first?.interface, "veth0")
        XCTAssertEqual(read.bfdSessions.first?.state, "Down")
    }

    func testAnErrorReplyIsAnErrorAndAMissingBirdSaysWhereItLooked() throws {
        XCTAssertThrowsError(try BirdControl(socketPath: "\(directory)/nothing.ctl").run("show protocols")) { error in
            XCTAssertTrue("\(error)".contains("cannot reach BIRD at \(directory)/nothing.ctl"), "\(error)")
            XCTAssertTrue("\(error)".contains("bird_socket"), "\(error)")
        }
        let socket = "\(directory)/bird.ctl"
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: socket), Date() < deadline { usleep(50_000) }
        XCTAssertThrowsError(try BirdControl(socketPath: socket).run("show nonsense")) { error in
            guard case BirdControlError.refused(let command, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(command, "show nonsense")
        }
    }

    func testReplyLinesParse() {
        XCTAssertEqual(BirdControl.parse("0001 BIRD 2.0.12 ready.")?.0, 1)
        XCTAssertEqual(BirdControl.parse("1002-device1    Device     ---        up     11:28:42.064")?.1, false)
        XCTAssertEqual(BirdControl.parse("0000 ")?.1, true)
        XCTAssertNil(BirdControl.parse(" direct1    Direct     ---        up"), "a continuation line")
        let lines = [
            BirdControl.Line(code: 2002, text: "Name       Proto      Table      State  Since         Info"),
            BirdControl.Line(code: 1002, text: "r1         BGP        ---        up     11:28:46.525  Established   "),
            BirdControl.Line(code: 1002, text: "d1         Direct     ---        up     11:28:42.064  "),
        ]
        let protocols = BirdStatus.parseProtocols(lines)
        XCTAssertEqual(protocols.map(\.name), ["r1", "d1"])
        XCTAssertEqual(protocols[0].info, "11:28:46.525  Established")
        XCTAssertEqual(BirdStatus(protocols: protocols).bgpDown, [])
        let bfd = BirdStatus.parseBFDSessions([
            BirdControl.Line(code: 1020, text: "bfd1:"),
            BirdControl.Line(code: 1020, text: "IP address                Interface  State      Since         Interval  Timeout"),
            BirdControl.Line(code: 1020, text: "10.0.0.1                  eth0       Up         11:28:47.000    0.100    0.300"),
        ])
        XCTAssertEqual(bfd.map(\.state), ["Up"])
        XCTAssertEqual(bfd.first?.interface, "eth0")
    }
}
