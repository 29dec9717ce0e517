import XCTest

@testable import LVSConfig

final class KeywordTableTests: XCTestCase {
    /// docs/lvs.cf.md is the keyword reference (and the man page's source): every keyword is in it.
    func testEveryKeywordIsDocumented() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/lvs.cf.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        for keyword in Keyword.all {
            XCTAssertTrue(text.contains("`\(keyword.name)`"), "docs/lvs.cf.md does not document '\(keyword.name)'")
            if keyword.isH2E {
                XCTAssertTrue(
                    text.contains("| `\(keyword.name)` |")
                        && text.components(separatedBy: "| `\(keyword.name)` |")[1]
                            .prefix(while: { $0 != "\n" }).contains("**h2e.**"),
                    "'\(keyword.name)' is not marked as h2e's in its table row")
            }
        }
    }

    /// Every keyword is accepted in each block the table names (the parser has a case for it: no trap).
    func testEveryKeywordParsesWhereTheTableSaysItBelongs() {
        let samples: [String: String] = [
            "serial_no": "1", "primary": "10.0.0.1", "primary_private": "10.0.0.1", "primary_shared": "/dev/x",
            "backup": "10.0.0.2", "backup_active": "1", "backup_private": "10.0.0.2", "backup_shared": "/dev/y",
            "reservation_conflict_action": "nothing", "nat_router": "10.0.0.254 eth1:1", "nat_nmask": "24",
            "active_cmd": "/bin/true", "inactive_cmd": "/bin/true", "monitor_links": "1", "debug_level": "LOW",
            "hard_shutdown": "0", "ipvsadm": "/sbin/ipvsadm", "keepalive": "1", "deadtime": "6",
            "rsh_command": "ssh", "syncdaemon": "1", "syncd_iface": "eth1", "syncd_id": "3", "tcp_timeout": "1",
            "tcpfin_timeout": "1", "udp_timeout": "1", "heartbeat": "1", "heartbeat_port": "600", "sync": "1",
            "network": "direct", "service": "lvs", "heartbeat_key": "/k", "heartbeat_auth": "none",
            "agent_port": "8182", "weight_interval": "7", "load_hold_timeout": "30", "load_slow_start": "0",
            "active": "1", "address": "10.0.0.10 eth0",
            "vip_nmask": "24", "port": "81", "protocol": "udp", "client_monitor": "/usr/sbin/nanny",
            "send_program": "/bin/check", "send": "x", "expect": "y", "use_regex": "1", "timeout": "3",
            "sorry_server": "10.0.0.9", "fwmark": "5", "scheduler": "wrr", "persistent": "9", "pmask": "24",
            "reentry": "5", "load_monitor": "h2e", "quiesce_server": "1", "start_cmd": "/bin/start",
            "stop_cmd": "/bin/stop", "master": "10.0.0.1", "dirs": "[ /a ]", "check_interval": "4", "fall": "3",
            "panic_threshold": "60", "mark_rules": "iptables-legacy", "announce_rate": "500", "drain_timeout": "60",
            "scale_out": "0", "announce_device": "h2e1", "bird_socket": "/run/bird/bird.ctl", "scheduler_flags": "mh-port",
            "scale_out_peers": "10.0.0.12:9180 [fd00::12]:9180",
            "site_address": "10.0.2.1 10.0.2.2", "site_addresses": "/etc/h2e/sites.list", "site_device": "eth1",
            "weight": "5", "max_weight": "9", "server_id": "\"web 75\"",
        ]
        for keyword in Keyword.all where Keyword.blockOpeners[keyword.name] == nil {
            guard let sample = samples[keyword.name] else {
                XCTFail("no sample value for '\(keyword.name)'")
                continue
            }
            for block in keyword.blocks {
                let value = keyword.name == "address" && block == .server ? "10.0.0.3" : sample
                let line = "\(keyword.name) = \(value)"
                let text: String
                switch block {
                case .global: text = line + "\n"
                case .virtual:
                    // Site addresses need a fwmark service.
                    let mark = keyword.name.hasPrefix("site_address") ? " fwmark = 5\n" : ""
                    text =
                        "virtual v {\n address = 10.0.0.10 eth0\n active = 1\n\(mark) \(line)\n server s {\n address = 10.0.0.2\n active = 1\n }\n}\n"
                case .failover:
                    text = "service = fos\nfailover f {\n address = 10.0.0.10 eth0\n active = 1\n \(line)\n}\n"
                case .server:
                    text =
                        "virtual v {\n address = 10.0.0.10 eth0\n active = 1\n server s {\n address = 10.0.0.2\n active = 1\n \(line)\n }\n}\n"
                }
                let result = LVSConfigParser.parse(text)
                XCTAssertEqual(result.errors, [], "\(keyword.name) in \(block)")
                XCTAssertNotNil(result.configuration, "\(keyword.name) in \(block)")
            }
        }
    }

    func testEditDistance() {
        XCTAssertEqual(Keyword.editDistance(Array("kitten".utf8), Array("sitting".utf8)), 3)
        XCTAssertEqual(Keyword.editDistance([], Array("abc".utf8)), 3)
        XCTAssertEqual(Keyword.suggestion(for: "PORT", in: .server), "port")
        XCTAssertNil(Keyword.suggestion(for: "zzzzzzzz", in: .server))
    }
}
