import XCTest

@testable import LVSConfig

/// Every kind of error and warning, with its exact position and text.
final class DiagnosticTests: XCTestCase {
    func testUnknownKeywordSuggestsTheClosestOne() {
        XCTAssertEqual(
            diagnostics("netwrok = direct\n"),
            ["lvs.cf:1:1: unknown keyword 'netwrok' in the global section; did you mean 'network'?"])
        XCTAssertEqual(
            diagnostics(virtualBlock("    schedular = lblc")),
            ["lvs.cf:4:5: unknown keyword 'schedular' in virtual 'web'; did you mean 'scheduler'?"])
        XCTAssertEqual(
            diagnostics(
                "virtual web {\n active = 1\n address = 10.0.0.1 eth0\n server s {\n  address = 10.0.0.2\n  wieght = 3\n  active = 1\n }\n}\n"
            ),
            ["lvs.cf:6:3: unknown keyword 'wieght' in server 's'; did you mean 'weight'?"])
        XCTAssertEqual(
            diagnostics("completely_unrelated = 1\n"),
            ["lvs.cf:1:1: unknown keyword 'completely_unrelated' in the global section"])
    }

    func testKeywordInTheWrongBlock() {
        XCTAssertEqual(
            diagnostics(virtualBlock("    weight = 3")),
            ["lvs.cf:4:5: 'weight' belongs in a server block, not in virtual 'web'"])
        XCTAssertEqual(
            diagnostics("scheduler = wlc\n"),
            ["lvs.cf:1:1: 'scheduler' belongs in a virtual block, not in the global section"])
        XCTAssertEqual(
            diagnostics(virtualBlock("    network = direct")),
            ["lvs.cf:4:5: 'network' belongs in the global section, not in virtual 'web'"])
        XCTAssertEqual(
            diagnostics("service = fos\nfailover f {\n active = 1\n address = 10.0.0.5 eth0\n fall = 3\n}\n"),
            ["lvs.cf:5:2: 'fall' belongs in a virtual block, not in failover 'f'"])
        XCTAssertEqual(
            diagnostics("server s {\n address = 10.0.0.2\n}\n"),
            ["lvs.cf:1:1: server blocks belong in a virtual block, not in the global section"])
        XCTAssertEqual(
            diagnostics(virtualBlock("    virtual inner {\n    }")),
            ["lvs.cf:4:5: virtual blocks belong in the global section, not in virtual 'web'"])
        XCTAssertEqual(
            diagnostics(virtualBlock("    address {\n    }")),
            ["lvs.cf:4:5: 'address' is not a block; write address = VALUE on one line"])
        // Piranha parsed server blocks in failover blocks and ignored them.
        XCTAssertEqual(
            diagnostics(
                "service = fos\nfailover f {\n active = 1\n address = 10.0.0.5 eth0\n server s {\n  address = 10.0.0.2\n }\n}\n"
            ),
            [
                "lvs.cf:5:2: warning: 'server' means nothing in a failover block (Piranha took it and did nothing "
                    + "with it); h2e ignores it"
            ])
    }

    func testBadValuesSayWhatIsAllowed() {
        let cases: [(String, String)] = [
            (
                "scheduler = fastest",
                "lvs.cf:4:17: 'scheduler' must be one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos; not 'fastest'"
            ),
            ("protocol = sctp", "lvs.cf:4:16: 'protocol' must be one of tcp, udp; not 'sctp'"),
            ("timeout = soon", "lvs.cf:4:15: 'timeout' must be a whole number (1 or more seconds), not 'soon'"),
            ("timeout = 0", "lvs.cf:4:15: 'timeout' must be 1 or more seconds, not 0"),
            ("check_interval = 7200", "lvs.cf:4:22: 'check_interval' must be 1...3600 seconds, not 7200"),
            ("panic_threshold = 150", "lvs.cf:4:23: 'panic_threshold' must be 0...100 percent, not 150"),
            ("panic_threshold = 50%", "lvs.cf:4:23: 'panic_threshold' must be a whole number (0...100 percent), not '50%'"),
            ("use_regex = yes", "lvs.cf:4:17: 'use_regex' must be 0 or 1, not 'yes'"),
            ("quiesce_server = 2", "lvs.cf:4:22: 'quiesce_server' must be 0 or 1, not '2'"),
            (
                "port = web",
                "lvs.cf:4:12: 'port' must be a port number (0...65535) or a service name such as http, https, smtp; 'web' is neither"
            ),
            ("port = 70000", "lvs.cf:4:12: 'port' must be 0...65535, not 70000"),
            (
                "sorry_server = sorry.example.com",
                "lvs.cf:4:20: 'sorry_server' must be an IPv4 or IPv6 address, not 'sorry.example.com' (h2e does not resolve host names in lvs.cf; write the address)"
            ),
            ("sorry_server = 0.0.0.0", "lvs.cf:4:20: 'sorry_server' cannot be the unspecified address 0.0.0.0"),
            (
                "vip_nmask = 255.0.255.0",
                "lvs.cf:4:17: 'vip_nmask' 255.0.255.0 is not a contiguous netmask (ones, then zeros)"
            ),
            (
                "pmask = wide",
                "lvs.cf:4:13: 'pmask' must be a netmask such as 255.255.255.0 or a prefix length 0...128, not 'wide'"
            ),
            (
                "load_monitor = rrdtool",
                "lvs.cf:4:20: 'load_monitor' must be h2e, h2e-in-flight, none, uptime, rup, ruptime or an absolute program path; not 'rrdtool'"
            ),
            ("fwmark = 0", "lvs.cf:4:14: 'fwmark' must be 1...4294967295, not 0"),
            (
                "start_cmd = x",
                "lvs.cf:4:5: warning: 'start_cmd' means nothing in a virtual block (Piranha took it and did nothing with it); h2e ignores it"
            ),
        ]
        for (line, expected) in cases {
            XCTAssertEqual(diagnostics(virtualBlock("    " + line)), [expected], line)
        }
        let globals: [(String, String)] = [
            ("network = routed", "lvs.cf:1:11: 'network' must be one of nat, direct, tunnel; not 'routed'"),
            ("service = both", "lvs.cf:1:11: 'service' must be one of lvs, fos; not 'both'"),
            (
                "heartbeat_key = key.txt",
                "lvs.cf:1:17: 'heartbeat_key' must be an absolute path (starting with '/'), not 'key.txt'"
            ),
            ("heartbeat_auth = md5", "lvs.cf:1:18: 'heartbeat_auth' must be none or hmac-sha256, not 'md5'"),
            ("agent_port = 0", "lvs.cf:1:14: 'agent_port' must be 1...65535, not 0"),
            (
                "syncd_iface = eth0:1",
                "lvs.cf:1:15: 'eth0:1' is not an interface name for 'syncd_iface': letters, digits, '_', '.', '-', at most 15 bytes (e.g. eth0)"
            ),
            (
                "nat_router = 10.0.0.1",
                "lvs.cf:1:22: 'nat_router' needs a device after the address, e.g. nat_router = 10.0.0.1 eth0:1"
            ),
            ("nat_router = 10.0.0.1 eth0 extra", "lvs.cf:1:28: unexpected 'extra' after 'nat_router = ADDRESS DEVICE'"),
            ("primary = 0.0.0.0", "lvs.cf:1:11: 'primary' cannot be the unspecified address 0.0.0.0"),
            (
                "reservation_conflict_action = fight",
                "lvs.cf:1:31: 'reservation_conflict_action' must be one of preempt, nothing; not 'fight'"
            ),
        ]
        for (line, expected) in globals {
            XCTAssertEqual(diagnostics(line + "\n"), [expected], line)
        }
        XCTAssertEqual(
            diagnostics("service = fos\nfailover f {\n active = 1\n address = 10.0.0.5 eth0\n dirs = /a /b\n}\n"),
            ["lvs.cf:5:9: 'dirs' must be a list: dirs = [ /first /second ]"])
    }

    func testLineSyntax() {
        XCTAssertEqual(diagnostics("network direct\n"), ["lvs.cf:1:9: expected '=' after 'network', found 'direct'"])
        XCTAssertEqual(diagnostics("network =\n"), ["lvs.cf:1:10: 'network' needs a value after '='"])
        XCTAssertEqual(
            diagnostics("active_cmd = /bin/run now\n"),
            ["lvs.cf:1:23: unexpected 'now' after the value of 'active_cmd'; quote a value that contains blanks"])
        XCTAssertEqual(diagnostics("= direct\n"), ["lvs.cf:1:1: '=' needs a keyword before it"])
        XCTAssertEqual(
            diagnostics("active_cmd = \"/bin/run now\nnetwork = nat\n"),
            ["lvs.cf:1:14: this string has no closing \" on its line"])
        XCTAssertEqual(
            diagnostics("virtual web\nnetwork = nat\n"),
            ["lvs.cf:1:1: 'virtual' opens a block: virtual NAME { on one line, then its keywords, then }"])
        XCTAssertEqual(diagnostics("virtual {\n}\n"), ["lvs.cf:1:8: 'virtual' needs a name: virtual NAME {"])
        XCTAssertEqual(diagnostics("virtual \"\" {\n}\n"), ["lvs.cf:1:9: 'virtual' needs a name: virtual NAME {"])
        XCTAssertEqual(
            diagnostics(LVSConfigParser.parse(bytes: Array("debug_level = \u{1}x\n".utf8))),
            ["lvs.cf:1:15: control character 0x1 in this word; remove it"])
        XCTAssertEqual(
            diagnostics(LVSConfigParser.parse(bytes: Array("debug_level = ".utf8) + [0xFF, 0x0A])),
            ["lvs.cf:1:15: this word is not valid UTF-8"])
    }

    func testUnbalancedBraces() {
        XCTAssertEqual(
            diagnostics(
                "virtual web {\n active = 1\n address = 10.0.0.1 eth0\n server s {\n  address = 10.0.0.2\n  active = 1\n}\n"
            ),
            ["lvs.cf:1:13: virtual 'web' is never closed; add the missing '}'"])
        XCTAssertEqual(diagnostics("network = nat\n}\n"), ["lvs.cf:2:1: this '}' closes no block; remove it"])
        XCTAssertEqual(
            diagnostics("{\nnetwork = nat\n"),
            [
                "lvs.cf:1:1: '{' must follow 'virtual NAME', 'failover NAME' or 'server NAME' on the same line",
                "lvs.cf:1:1: this '{' is never closed; add the missing '}'",
            ])
    }

    func testMissingRequiredKeywords() {
        XCTAssertEqual(
            diagnostics("virtual web {\n active = 1\n port = 80\n}\n"),
            ["lvs.cf:1:1: virtual 'web' has no address; add address = IP DEVICE (e.g. address = 10.0.0.10 eth0:1)"])
        XCTAssertEqual(
            diagnostics(virtualBlock("    server web2 {\n        active = 1\n    }")),
            ["lvs.cf:4:5: server 'web2' has no address; add address = IP"])
        XCTAssertEqual(
            diagnostics("service = fos\nfailover ftp {\n active = 1\n}\n"),
            ["lvs.cf:2:1: failover 'ftp' has no address; add address = IP DEVICE (e.g. address = 10.0.0.10 eth0:1)"])
        XCTAssertEqual(
            diagnostics(virtualBlock("", name: "web").replacingOccurrences(of: "10.0.0.10 eth0:1", with: "10.0.0.10")),
            ["lvs.cf:3:24: 'address' needs a device after the address, e.g. address = 10.0.0.10 eth0:1"])
    }

    func testDuplicates() {
        let two = virtualBlock("", name: "web") + virtualBlock("    port = 443", name: "web")
        XCTAssertEqual(
            diagnostics(two), ["lvs.cf:10:9: duplicate virtual name 'web' (first at line 1); names must be unique"])
        XCTAssertEqual(
            diagnostics(virtualBlock("    server web2 {\n        address = 10.0.0.2\n        active = 1\n    }")),
            [
                "lvs.cf:9:9: server 'web1' repeats the destination 10.0.0.2 port 80 of the server at line 4 in virtual 'web'"
            ])
        // The same address on another port is another destination.
        XCTAssertEqual(
            diagnostics(
                virtualBlock(
                    "    server web2 {\n        address = 10.0.0.2\n        port = 8080\n        active = 1\n    }")),
            [])
        let sameService = virtualBlock("", name: "a") + virtualBlock("", name: "b")
        XCTAssertEqual(
            diagnostics(sameService),
            [
                "lvs.cf:10:9: virtual 'b' is the same IPVS service (tcp 10.0.0.10 port 80) as virtual 'a' at line 1; "
                    + "give one a different address, port or fwmark, or set active = 0"
            ])
    }

    func testCrossChecks() {
        XCTAssertEqual(
            diagnostics(virtualBlock("    port = 0")),
            ["lvs.cf:4:5: port 0 (every port) needs persistent = SECONDS, as IPVS requires"])
        XCTAssertEqual(diagnostics(virtualBlock("    port = 0\n    persistent = 30")), [])
        XCTAssertEqual(
            diagnostics(virtualBlock("    pmask = 255.255.255.0")),
            ["lvs.cf:4:5: warning: pmask has no effect without persistent = SECONDS"])
        XCTAssertEqual(
            diagnostics(virtualBlock("    sorry_server = 2001:db8::9")),
            ["lvs.cf:4:5: sorry_server 2001:db8::9 is IPv6 but virtual 'web' is IPv4"])
        XCTAssertEqual(
            diagnostics(
                "virtual web {\n active = 1\n address = 10.0.0.1 eth0\n server s {\n  address = 2001:db8::2\n  active = 1\n }\n}\n"
            ),
            ["lvs.cf:5:3: server 's' is IPv6 but virtual 'web' is IPv4; IPVS keeps one family per service"])
        XCTAssertEqual(
            diagnostics(
                "virtual web {\n active = 1\n address = 10.0.0.1 eth0\n server s {\n  address = 10.0.0.2\n  weight = 10\n  max_weight = 5\n  active = 1\n }\n}\n"
            ),
            ["lvs.cf:7:3: max_weight 5 is below weight 10"])
        for bad in ["\"\"", "\"web\\t1\"", "\"wéb1\""] {
            XCTAssertEqual(
                diagnostics(
                    "virtual web {\n active = 1\n address = 10.0.0.1 eth0\n server s {\n  address = 10.0.0.2\n  server_id = \(bad)\n  active = 1\n }\n}\n"
                ),
                ["lvs.cf:6:15: 'server_id' must be 1-255 printable ASCII characters, the --server-id its h2e-agent reports"],
                bad)
        }
        XCTAssertEqual(
            diagnostics("heartbeat_key = /k\nheartbeat_auth = none\n"),
            ["lvs.cf:2:18: 'heartbeat_auth = none' contradicts heartbeat_key at line 1; keep one of them"])
        XCTAssertEqual(
            diagnostics("heartbeat_auth = none\nheartbeat_key = /k\n"),
            ["lvs.cf:2:1: heartbeat_key contradicts 'heartbeat_auth = none' at line 1; keep one of them"])
        XCTAssertEqual(
            diagnostics("heartbeat_auth = hmac-sha256\n"),
            ["lvs.cf:1:18: 'heartbeat_auth = hmac-sha256' needs 'heartbeat_key = /path/of/key'"])
        XCTAssertEqual(
            diagnostics("keepalive = 5\ndeadtime = 5\n"),
            [
                "lvs.cf:2:1: warning: deadtime (5 s) is not longer than keepalive (5 s): the backup will take over after a single lost heartbeat"
            ])
        XCTAssertEqual(
            diagnostics(virtualBlock("    send_program = /bin/check\n    send = x")),
            ["lvs.cf:4:5: warning: send_program replaces send: the program's output is matched against expect"])
    }

    func testServiceTypeAndNameWarnings() {
        XCTAssertEqual(
            diagnostics("service = fos\n"),
            ["lvs.cf:1:1: warning: service = fos but there is no failover block: nothing will run"])
        XCTAssertEqual(
            diagnostics("service = fos\nfailover f {\n active = 1\n address = 10.0.0.5 eth0\n}\n" + virtualBlock("")),
            ["lvs.cf:6:1: warning: virtual blocks are ignored while service = fos"])
        XCTAssertEqual(
            diagnostics(virtualBlock("    server web1 {\n        address = 10.0.0.3\n        active = 1\n    }")),
            ["lvs.cf:8:12: warning: server name 'web1' is also used at line 4"])
        XCTAssertEqual(
            diagnostics("virtual v {\n active = 1\n address = 10.0.0.1 eth0\n}\n"),
            ["lvs.cf:1:1: warning: virtual 'v' has no server block"])
        XCTAssertEqual(
            diagnostics(
                "virtual v {\n active = 1\n address = 10.0.0.1 eth0\n server s {\n  address = 10.0.0.2\n }\n}\n"),
            [
                "lvs.cf:4:2: warning: server 's' has no 'active' line, so it is not used (active = 0), as in Piranha; add active = 1"
            ])
    }

    func testEveryProblemInOnePass() {
        let text = """
            netwrok = direct
            virtual web {
                active = maybe
                address = 10.0.0.10 eth0:1
                weight = 3
                server web1 {
                    address = web1.example.com
                    active = 1
                }
            }
            virtual web {
                address = 10.0.0.11 eth0:2
                active = 1
            }
            }
            """
        XCTAssertEqual(
            diagnostics(text),
            [
                "lvs.cf:1:1: unknown keyword 'netwrok' in the global section; did you mean 'network'?",
                "lvs.cf:3:14: 'active' must be 0 or 1, not 'maybe'",
                "lvs.cf:5:5: 'weight' belongs in a server block, not in virtual 'web'",
                "lvs.cf:7:19: 'address' must be an IPv4 or IPv6 address, not 'web1.example.com' (h2e does not resolve host names in lvs.cf; write the address)",
                "lvs.cf:11:1: warning: virtual 'web' has no server block",
                "lvs.cf:15:1: this '}' closes no block; remove it",
                "lvs.cf:11:9: duplicate virtual name 'web' (first at line 2); names must be unique",
            ])
    }

    func testTooManyErrorsStops() {
        let text = String(repeating: "bogus = 1\n", count: 1000)
        let result = LVSConfigParser.parse(text)
        XCTAssertEqual(result.errors.count, 100)
        XCTAssertEqual(result.errors.last?.description, "lvs.cf:100:1: too many errors (100); stopping here")
    }
}

private func diagnostics(_ result: LVSConfigParseResult) -> [String] { result.diagnostics.map(\.description) }
