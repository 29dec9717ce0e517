import Heartbeat
import LVSConfig
import LoadFeedback
import XCTest

@testable import Director

final class RuntimeConfigurationTests: XCTestCase {
    static let pair = """
        network = nat
        nat_router = 192.168.2.254 eth1:1
        nat_nmask = 255.255.255.0
        heartbeat = 1
        backup_active = 1
        primary = 192.168.77.1
        backup = 192.168.77.2
        primary_private = 10.1.1.1
        backup_private = 10.1.1.2
        keepalive = 1
        deadtime = 3
        monitor_links = 1
        heartbeat_key = /etc/h2e/heartbeat.key
        virtual web {
            active = 1
            address = 192.168.77.100 eth0:1
            vip_nmask = 255.255.255.0
            load_monitor = uptime
            server web1 {
                active = 1
                address = 192.168.2.2
            }
        }

        """

    func make(_ text: String, local: [String: String], role: ConfiguredRole? = nil) -> Result<RuntimeConfiguration, RuntimeConfigurationError> {
        RuntimeConfiguration.make(
            TestConfigurations.parse(text), file: "lvs.cf", localAddresses: local, forcedRole: role,
            loadKey: { path in
                XCTAssertEqual(path, "/etc/h2e/heartbeat.key")
                return Array("0123456789abcdef".utf8)
            })
    }

    func testFailoverServicesWithoutAnActiveFailoverBlockAreRefusedWithAClearSentence() {
        guard case .failure(let error) = make("service = fos\n" + Self.pair, local: ["192.168.77.1": "eth0"]) else {
            return XCTFail("service = fos must not run the virtual servers")
        }
        XCTAssertTrue(error.description.hasPrefix("lvs.cf: service = fos without an active failover block"), error.description)
        XCTAssertTrue(error.description.contains("service = lvs"), error.description)
    }

    func testBackupFindsItselfByAddressAndGetsItsLinksAndKey() throws {
        let runtime = try make(Self.pair, local: ["192.168.77.2": "eth0", "10.1.1.2": "eth2"]).get()
        guard case .heartbeat(let settings, let devices) = runtime.role else { return XCTFail("expected a heartbeat") }
        XCTAssertEqual(settings.peer.role, .backup)
        XCTAssertEqual(settings.links, [HeartbeatLink(local: "192.168.77.2", peer: "192.168.77.1"), HeartbeatLink(local: "10.1.1.2", peer: "10.1.1.1")])
        XCTAssertEqual(settings.peer.keepalive, .seconds(1))
        XCTAssertEqual(settings.peer.deadtime, .seconds(3))
        XCTAssertEqual(settings.peer.senderID, PeerConfiguration.senderID(forAddress: "192.168.77.2"))
        XCTAssertEqual(Set(devices), ["eth0", "eth2", "eth1"], "monitor_links watches heartbeat and VIP interfaces")
        XCTAssertEqual(runtime.virtualAddresses.map(\.description), ["192.168.77.100/24 dev eth0:1", "192.168.2.254/24 dev eth1:1"],
            "VIPs and the NAT router move together")
        XCTAssertEqual(runtime.loadSources["web"], .program(command: "rsh", argumentsAfterAddress: ["uptime"]))
        XCTAssertEqual(runtime.healthTargets.count, 1)
    }

    func testRoleCanBeForcedAndMustOtherwiseBeFound() throws {
        let forced = try make(Self.pair, local: [:], role: .primary).get()
        guard case .heartbeat(let settings, _) = forced.role else { return XCTFail() }
        XCTAssertEqual(settings.links.first, HeartbeatLink(local: "192.168.77.1", peer: "192.168.77.2"))
        guard case .failure(let error) = make(Self.pair, local: ["127.0.0.1": "lo"]) else { return XCTFail() }
        XCTAssertTrue(error.description.contains("--role primary|backup"), error.description)
    }

    func testHeartbeatWithoutKeyOrExplicitNoneIsRefused() {
        let noKey = Self.pair.replacing("heartbeat_key = /etc/h2e/heartbeat.key\n", with: "")
        guard case .failure(let error) = make(noKey, local: ["192.168.77.1": "eth0"]) else { return XCTFail("accepted") }
        XCTAssertTrue(error.description.hasPrefix("lvs.cf: heartbeats are unauthenticated: set heartbeat_key"), error.description)
        let none = noKey.replacing("heartbeat = 1", with: "heartbeat = 1\nheartbeat_auth = none")
        XCTAssertNoThrow(try make(none, local: ["192.168.77.1": "eth0"]).get())
    }

    func testWithoutBackupItIsStandaloneAndABadRegexIsAProblem() {
        let standalone = Self.pair.replacing("backup_active = 1", with: "backup_active = 0")
        XCTAssertTrue((try? make(standalone, local: [:]).get())?.role.isStandalone == true)
        let regex = standalone.replacing("load_monitor = uptime", with: "expect = \"(\"\n    use_regex = 1")
        guard case .failure(let error) = make(regex, local: [:]) else { return XCTFail("bad regex accepted") }
        XCTAssertTrue(error.description.contains("virtual web: expect \"(\""), error.description)
    }
}
