import XCTest

@testable import LVSConfig

final class ParserTests: XCTestCase {
    func testKB114327ExampleParses() throws {
        let (config, warnings) = parseValid(Fixtures.kb114327)
        XCTAssertEqual(warnings, [])
        XCTAssertEqual(config.global.network, .direct)
        XCTAssertEqual(config.global.primary, ip("10.0.0.10"))
        XCTAssertEqual(config.global.service, .lvs)
        let v = try XCTUnwrap(config.virtualServer(named: "Web-Cluster-v4"))
        XCTAssertTrue(v.active)
        XCTAssertEqual(v.address, InterfaceAddress(address: ip("10.0.0.10"), device: "eth1", alias: "1"))
        XCTAssertEqual(v.firewallMark, 100)
        XCTAssertEqual(v.loadMonitor, .program("/usr/sbin/h2e-load"))
        XCTAssertEqual(v.port, 80)
        XCTAssertEqual(v.protocol, .tcp)
        XCTAssertEqual(v.reentry, 10)
        XCTAssertEqual(v.timeout, 10)
        XCTAssertEqual(v.scheduler, .lblc)
        XCTAssertEqual(v.send, "GET / HTTP/1.0\r\n\r\n")
        XCTAssertEqual(v.expect, "HTTP")
        XCTAssertEqual(v.realServers.map(\.name), ["web1", "web2"])
        XCTAssertEqual(v.realServers.map(\.address), [ip("10.0.0.2"), ip("10.0.0.3")])
        XCTAssertEqual(v.realServers.map(\.weight), [32, 32])
        XCTAssertEqual(v.realServers.map(\.active), [true, true])
        XCTAssertEqual(v.realServers.map { v.port(of: $0) }, [80, 80])
    }

    func testPiranhaSampleParsesEveryGlobalKeyword() throws {
        let (config, warnings) = parseValid(Fixtures.piranhaSample)
        let g = config.global
        XCTAssertEqual(g.serialNumber, 42)
        XCTAssertEqual(g.primary, ip("192.168.1.10"))
        XCTAssertEqual(g.primaryPrivate, ip("10.1.1.10"))
        XCTAssertEqual(g.primaryShared, "/dev/sda1")
        XCTAssertEqual(g.backup, ip("192.168.1.11"))
        XCTAssertTrue(g.backupActive)
        XCTAssertEqual(g.backupPrivate, ip("10.1.1.11"))
        XCTAssertEqual(g.backupShared, "/dev/sdb1")
        XCTAssertEqual(g.reservationConflictAction, .preempt)
        XCTAssertTrue(g.heartbeat)
        XCTAssertEqual(g.heartbeatPort, 539)
        XCTAssertEqual(g.keepalive, 6)
        XCTAssertEqual(g.deadtime, 18)
        XCTAssertEqual(g.network, .nat)
        XCTAssertEqual(g.natRouter, InterfaceAddress(address: ip("192.168.2.254"), device: "eth1", alias: "1"))
        XCTAssertEqual(g.natNetmask, Netmask(prefixLength: 24))
        XCTAssertEqual(g.activeCommand, "/usr/local/bin/became-active")
        XCTAssertEqual(g.inactiveCommand, "/usr/local/bin/became-inactive")
        XCTAssertTrue(g.monitorLinks)
        XCTAssertEqual(g.debugLevel, "NONE")
        XCTAssertFalse(g.hardShutdown)
        XCTAssertEqual(g.ipvsadm, "/sbin/ipvsadm")
        XCTAssertEqual(g.rshCommand, "ssh")
        XCTAssertTrue(g.syncDaemon)
        XCTAssertEqual(g.syncDaemonInterface, "eth2")
        XCTAssertEqual(g.syncDaemonID, 7)
        XCTAssertEqual(g.tcpTimeout, 900)
        XCTAssertEqual(g.tcpFinTimeout, 120)
        XCTAssertEqual(g.udpTimeout, 300)
        XCTAssertFalse(g.fileSync)

        let http = try XCTUnwrap(config.virtualServer(named: "http"))
        XCTAssertEqual(http.vipNetmask, Netmask(prefixLength: 24))
        XCTAssertEqual(http.sorryServer, ip("192.168.2.99"))
        XCTAssertEqual(http.persistence, 300)
        XCTAssertEqual(http.persistenceNetmask, Netmask(prefixLength: 24))
        XCTAssertEqual(http.loadMonitor, .remote(.uptime))
        XCTAssertEqual(http.scheduler, .wlc)
        XCTAssertEqual(http.timeout, 6)
        XCTAssertEqual(http.reentry, 15)
        XCTAssertTrue(http.quiesceServer)
        XCTAssertFalse(http.useRegex)
        XCTAssertEqual(http.clientMonitor, "/usr/sbin/nanny")
        XCTAssertEqual(http.realServers.map { http.port(of: $0) }, [80, 8080])
        XCTAssertEqual(http.realServers.map(\.weight), [10, 20])

        let dns = try XCTUnwrap(config.virtualServer(named: "dns"))
        XCTAssertFalse(dns.active)
        XCTAssertEqual(dns.port, 53, "service name")
        XCTAssertEqual(dns.protocol, .udp)
        XCTAssertEqual(dns.sendProgram, "/usr/local/bin/check-dns %h")
        XCTAssertEqual(dns.scheduler, .rr)
        XCTAssertEqual(dns.realServers.first?.weight, 1, "Piranha's default weight")

        let ftp = try XCTUnwrap(config.failoverServices.first)
        XCTAssertEqual(ftp.name, "ftp")
        XCTAssertEqual(ftp.port, 21)
        XCTAssertEqual(ftp.send, "\n")
        XCTAssertEqual(ftp.expect, "220")
        XCTAssertEqual(ftp.startCommand, "/etc/init.d/vsftpd start")
        XCTAssertEqual(ftp.stopCommand, "/etc/init.d/vsftpd stop")
        XCTAssertEqual(ftp.master, ip("192.168.1.10"))
        XCTAssertEqual(ftp.directories, ["/var/ftp", "/etc/vsftpd"])

        // Piranha accepted all of it; h2e says what it does with the odd parts.
        XCTAssertEqual(
            warnings.map(\.description),
            [
                "lvs.cf:44:21: warning: load_monitor = uptime runs 'uptime' against each real server through "
                    + "rsh_command, as Piranha did; load_monitor = h2e asks the h2e-agent instead",
                "lvs.cf:76:1: warning: failover blocks are ignored while service = lvs (the default)",
            ])
    }

    func testDefaultsArePiranhasExceptTheScheduler() throws {
        let (config, _) = parseValid("virtual v {\n address = 10.0.0.1 eth0\n server s {\n address = 10.0.0.2\n }\n}\n")
        let g = config.global
        XCTAssertEqual(g, GlobalSettings())
        XCTAssertEqual(g.network, .nat, "lvsconfig.c defaults to NAT")
        XCTAssertEqual(g.keepalive, 2)
        XCTAssertEqual(g.deadtime, 5)
        XCTAssertEqual(g.heartbeatPort, 539)
        XCTAssertEqual(g.syncDaemonInterface, "eth0")
        XCTAssertTrue(g.hardShutdown)
        XCTAssertEqual(g.agentPort, 8181)
        XCTAssertEqual(g.weightInterval, 5)
        XCTAssertEqual(g.loadHoldTimeout, 180)
        XCTAssertEqual(g.loadSlowStart, 60)
        XCTAssertEqual(g.heartbeatAuthentication, .unspecified)
        let v = try XCTUnwrap(config.virtualServers.first)
        XCTAssertFalse(v.active)
        XCTAssertEqual(v.port, 80)
        XCTAssertEqual(v.protocol, .tcp)
        XCTAssertEqual(v.scheduler, .lblc, "h2e's default; Piranha's is wlc")
        XCTAssertEqual(v.timeout, 10)
        XCTAssertEqual(v.reentry, 180)
        XCTAssertEqual(v.loadMonitor, .none)
        XCTAssertEqual(v.checkInterval, 2)
        XCTAssertEqual(v.panicThreshold, 50)
        XCTAssertEqual(v.fall, 1)
        XCTAssertNil(v.persistence)
        XCTAssertNil(v.firewallMark)
        let s = try XCTUnwrap(v.realServers.first)
        XCTAssertEqual(s.weight, 1)
        XCTAssertFalse(s.active)
        XCTAssertNil(s.port)
        XCTAssertNil(s.maxWeight)
    }

    func testH2EKeywords() throws {
        let (config, warnings) = parseValid(
            """
            heartbeat_key = /etc/h2e/heartbeat.key
            agent_port = 9000
            weight_interval = 10
            load_hold_timeout = 30
            load_slow_start = 0
            virtual web {
                active = 1
                address = 10.0.0.10 eth0:1
                load_monitor = h2e
                check_interval = 3
                fall = 2
                panic_threshold = 34
                server web1 {
                    address = 10.0.0.2
                    active = 1
                    weight = 8
                    max_weight = 64
                    server_id = "web 75"
                }
            }
            """)
        XCTAssertEqual(warnings, [])
        XCTAssertEqual(config.global.heartbeatAuthentication, .hmacSHA256(keyFile: "/etc/h2e/heartbeat.key"))
        XCTAssertEqual(config.global.agentPort, 9000)
        XCTAssertEqual(config.global.weightInterval, 10)
        XCTAssertEqual(config.global.loadHoldTimeout, 30)
        XCTAssertEqual(config.global.loadSlowStart, 0)
        let v = try XCTUnwrap(config.virtualServers.first)
        XCTAssertEqual(v.loadMonitor, .h2e(.cpu))
        XCTAssertEqual(v.checkInterval, 3)
        XCTAssertEqual(v.fall, 2)
        XCTAssertEqual(v.panicThreshold, 34)
        XCTAssertEqual(v.realServers.first?.maxWeight, 64)
        XCTAssertEqual(v.realServers.first?.serverID, "web 75")
        // The in-flight figure of the same agent (a word that is neither: DiagnosticTests).
        XCTAssertEqual(
            parseValid("virtual web {\n address = 10.0.0.10 eth0:1\n load_monitor = h2e-in-flight\n}\n").0
                .virtualServers.first?.loadMonitor, .h2e(.inFlight))

        XCTAssertEqual(parseValid("heartbeat_auth = none\n").0.global.heartbeatAuthentication, .none)
        XCTAssertEqual(
            parseValid("heartbeat_auth = hmac-sha256\nheartbeat_key = /k\n").0.global.heartbeatAuthentication,
            .hmacSHA256(keyFile: "/k"))
        XCTAssertEqual(
            parseValid(virtualBlock("load_monitor = none")).0.virtualServers.first?.loadMonitor, LoadMonitor.none)
    }

    func testVirtualKeywords() throws {
        let (config, _) = parseValid(
            virtualBlock(
                """
                    vip_nmask = 255.255.255.0
                    port = https
                    protocol = udp
                    fwmark = 0x64
                    scheduler = sh
                    persistent = 600
                    pmask = 255.255.0.0
                    sorry_server = 10.0.0.99
                    client_monitor = /usr/sbin/nanny
                    send = 'PING\\r\\n'
                    expect = "^PONG [0-9]+"
                    use_regex = 1
                    timeout = 4
                    reentry = 30
                    quiesce_server = 1
                    load_monitor = ruptime
                """))
        let v = try XCTUnwrap(config.virtualServers.first)
        XCTAssertEqual(v.vipNetmask, Netmask(prefixLength: 24))
        XCTAssertEqual(v.port, 443)
        XCTAssertEqual(v.protocol, .udp)
        XCTAssertEqual(v.firewallMark, 100)
        XCTAssertEqual(v.scheduler, .sh)
        XCTAssertEqual(v.persistence, 600)
        XCTAssertEqual(v.persistenceNetmask, Netmask(prefixLength: 16))
        XCTAssertEqual(v.sorryServer, ip("10.0.0.99"))
        XCTAssertEqual(v.clientMonitor, "/usr/sbin/nanny")
        XCTAssertEqual(v.send, "PING\r\n")
        XCTAssertEqual(v.expect, "^PONG [0-9]+")
        XCTAssertTrue(v.useRegex)
        XCTAssertEqual(v.timeout, 4)
        XCTAssertEqual(v.reentry, 30)
        XCTAssertTrue(v.quiesceServer)
        XCTAssertEqual(v.loadMonitor, .remote(.ruptime))
    }

    func testEveryScheduler() throws {
        for scheduler in Scheduler.allCases {
            let (config, _) = parseValid(virtualBlock("    scheduler = \(scheduler)"))
            XCTAssertEqual(config.virtualServers.first?.scheduler, scheduler)
        }
        for network in ForwardingMethod.allCases {
            XCTAssertEqual(parseValid("network = \(network)\n").0.global.network, network)
        }
        XCTAssertEqual(
            parseValid("service = fos\nfailover f {\n active = 1\n address = 10.0.0.5 eth0\n}\n").0.global.service, .fos
        )
        XCTAssertEqual(
            parseValid("reservation_conflict_action = nothing\n").0.global.reservationConflictAction, .nothing)
    }

    func testIPv6Services() throws {
        let (config, _) = parseValid(
            """
            primary = 2001:db8::1
            virtual web6 {
                active = 1
                address = 2001:DB8:0::10 eth0
                pmask = 64
                persistent = 60
                vip_nmask = 64
                server web1 {
                    address = 2001:db8::0:2
                    active = 1
                }
            }
            """)
        let v = try XCTUnwrap(config.virtualServers.first)
        XCTAssertEqual(v.address?.address.description, "2001:db8::10")
        XCTAssertNil(v.address?.alias)
        XCTAssertEqual(v.persistenceNetmask, Netmask(prefixLength: 64))
        XCTAssertEqual(v.realServers.first?.address.description, "2001:db8::2")
        XCTAssertEqual(config.global.primary?.description, "2001:db8::1")
    }

    func testTolerantSpacingCommentsAndLineEndings() throws {
        let text =
            "# comment\r\n\r\n   network=direct   \r\nvirtual web{\r\n\tactive =1\r\n\taddress  =  10.0.0.10\teth0:1 # VIP\r\n"
            + "\tport = 80 # http\r\n  # indented comment\n\tserver web1\n\t{\n\t\taddress=10.0.0.2\n\t\tactive = 1\n\t} # end\n}\r"
        let (config, warnings) = parseValid(text)
        XCTAssertEqual(warnings, [])
        XCTAssertEqual(config.global.network, .direct)
        XCTAssertEqual(config.virtualServers.first?.address?.deviceLabel, "eth0:1")
        XCTAssertEqual(config.virtualServers.first?.realServers.first?.address, ip("10.0.0.2"))
    }

    func testByteOrderMarkIsSkipped() {
        let result = LVSConfigParser.parse(bytes: [0xEF, 0xBB, 0xBF] + Array("network = direct\nbogus = 1\n".utf8))
        XCTAssertEqual(
            result.diagnostics.map(\.description), ["lvs.cf:2:1: unknown keyword 'bogus' in the global section"])
        XCTAssertEqual(
            LVSConfigParser.parse(bytes: [0xEF, 0xBB, 0xBF] + Array("network = direct\n".utf8)).configuration?.global
                .network, .direct)
    }

    func testValuesStayWhole() throws {
        // After '=', '=' and '#' inside a value are Piranha's literal text.
        let (config, _) = parseValid(virtualBlock("    expect = a=b\n    send = #1"))
        XCTAssertEqual(config.virtualServers.first?.expect, "a=b")
        XCTAssertEqual(config.virtualServers.first?.send, "#1")
    }

    func testQuotedStringEscapes() throws {
        let (config, _) = parseValid(
            virtualBlock(#"    send = "a\"b\\c\td\re\nf\x"  "# + "\n" + #"    expect = HTTP\r\n"#))
        XCTAssertEqual(config.virtualServers.first?.send, "a\"b\\c\td\re\nf\\x")
        XCTAssertEqual(config.virtualServers.first?.expect, "HTTP\r\n", "bare send/expect words get escapes too")
    }

    func testNumbersAsStrtolReadsThem() throws {
        let (config, warnings) = parseValid(virtualBlock("    fwmark = 0x1F\n    timeout = 010"))
        XCTAssertEqual(config.virtualServers.first?.firewallMark, 31)
        XCTAssertEqual(config.virtualServers.first?.timeout, 8)
        XCTAssertEqual(
            warnings.map(\.description),
            ["lvs.cf:5:15: warning: '010' has a leading zero, so it is octal (8), as Piranha read it; write 8"])
    }

    func testHeartbeatTimesTakeFractionsOfASecond() throws {
        let (config, warnings) = parseValid("keepalive = 0.2\ndeadtime = 0.6\n")
        XCTAssertEqual(config.global.keepalive, 0.2)
        XCTAssertEqual(config.global.deadtime, 0.6)
        XCTAssertEqual(warnings, [])
        XCTAssertTrue(LVSConfigWriter.write(config).contains("keepalive = 0.2\ndeadtime = 0.6\n"))
        XCTAssertEqual(diagnostics("keepalive = .5\n"), ["lvs.cf:1:13: 'keepalive' must be a number of seconds such as 2 or 0.5, not '.5'"])
        XCTAssertEqual(diagnostics("deadtime = 1e3\n"), ["lvs.cf:1:12: 'deadtime' must be a number of seconds such as 2 or 0.5, not '1e3'"])
        XCTAssertEqual(diagnostics("keepalive = 0\n"), ["lvs.cf:1:13: 'keepalive' must be 0.01...86400 seconds, not 0"])
        XCTAssertEqual(
            diagnostics("keepalive = 0.5\ndeadtime = 0.5\n"),
            ["lvs.cf:2:1: warning: deadtime (0.5 s) is not longer than keepalive (0.5 s): the backup will take over after a single lost heartbeat"])
    }

    func testPiranhaQuirksKeptWithWarnings() throws {
        // A repeated keyword: the last wins.
        let (config, warnings) = parseValid("deadtime = 10\nkeepalive = 1\ndeadtime = 12\n")
        XCTAssertEqual(config.global.deadtime, 12)
        XCTAssertEqual(
            warnings.map(\.description),
            ["lvs.cf:3:1: warning: 'deadtime' is set again (first at line 1); the last value wins, as in Piranha"])
        // pmask 255.255.255.255 is "none", as lvsconfig.c makes it; persistent 0 is no persistence.
        let (c2, _) = parseValid(virtualBlock("    persistent = 0\n    pmask = 255.255.255.255"))
        XCTAssertNil(c2.virtualServers.first?.persistence)
        XCTAssertNil(c2.virtualServers.first?.persistenceNetmask)
        // Failover-only keywords in a virtual block: ignored, with a warning.
        let (c3, w3) = parseValid(virtualBlock("    start_cmd = /bin/true"))
        XCTAssertEqual(c3.virtualServers.count, 1)
        XCTAssertEqual(
            w3.map(\.description),
            [
                "lvs.cf:4:5: warning: 'start_cmd' means nothing in a virtual block (Piranha took it and did nothing "
                    + "with it); h2e ignores it"
            ])
        // No 'active' line: inactive, as in Piranha.
        XCTAssertEqual(
            diagnostics("virtual v {\n address = 10.0.0.1 eth0\n}\n"),
            [
                "lvs.cf:1:1: warning: virtual 'v' has no 'active' line, so it is inactive (active = 0), as in "
                    + "Piranha; add active = 1 to run it"
            ])
    }

    func testFileEntryPoint() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lvsconfig-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("lvs.cf").path
        try Fixtures.kb114327.write(toFile: path, atomically: true, encoding: .utf8)
        let result = LVSConfigParser.parseFile(atPath: path)
        XCTAssertEqual(result.configuration?.realServerCount, 2)

        let missing = LVSConfigParser.parseFile(atPath: directory.appendingPathComponent("absent.cf").path)
        XCTAssertNil(missing.configuration)
        XCTAssertEqual(missing.errors.count, 1)
        XCTAssertTrue(missing.errors[0].description.hasSuffix("absent.cf: cannot open: No such file or directory"))

        let big = directory.appendingPathComponent("big.cf").path
        try Data(repeating: UInt8(ascii: "\n"), count: LVSConfigParser.maximumFileSize + 1).write(
            to: URL(fileURLWithPath: big))
        let tooBig = LVSConfigParser.parseFile(atPath: big)
        XCTAssertEqual(
            tooBig.diagnostics.map(\.description),
            ["\(big):1:1: file is larger than 4194304 bytes (4 MiB), the most lvs.cf may be"])
    }
}

final class SummaryTests: XCTestCase {
    func testSummaryLine() {
        XCTAssertEqual(
            parseValid(Fixtures.kb114327).0.summary(file: "lvs.cf"),
            "lvs.cf: 1 virtual server, 2 real servers, network direct, scheduler lblc")
        XCTAssertEqual(
            parseValid(Fixtures.piranhaSample).0.summary(file: "/etc/sysconfig/ha/lvs.cf"),
            "/etc/sysconfig/ha/lvs.cf: 2 virtual servers, 3 real servers, 1 failover service, network nat, "
                + "schedulers wlc, rr")
        XCTAssertEqual(LVSConfiguration().summary(file: "x"), "x: 0 virtual servers, 0 real servers, network nat")
    }
}
