import XCTest

@testable import LVSConfig

/// lvs.cf as the field wrote it: the fwmark farm of KB 114327 (a `virtual` with `fwmark` and no `address`) and Red
/// Hat's multi-port recipe (one virtual per port, all on one fwmark).
final class FieldConfigurationTests: XCTestCase {
    /// A fwmark virtual named `name` on `port`, with `extra` lines, and web1 (and web2 unless `oneServer`).
    func markedVirtual(_ name: String, port: Int, extra: String = "", address: String? = nil) -> String {
        """
        virtual \(name) {
            active = 1
            fwmark = 100
            port = \(port)
        \(address.map { "    address = \($0)" } ?? "")
        \(extra)
            send = "GET / HTTP/1.0\\r\\n\\r\\n"
            expect = "HTTP"
            server web1 {
                active = 1
                address = 10.0.1.2
                weight = 32
            }
            server web2 {
                active = 1
                address = 10.0.1.3
                weight = 32
            }
        }

        """
    }

    func testAFwmarkVirtualWithoutAddressIsAcceptedWithAWarning() throws {
        let text = "network = direct\nservice = lvs\n" + markedVirtual("Web-Cluster-v4", port: 80)
        let result = LVSConfigParser.parse(text, file: "lvs.cf")
        XCTAssertEqual(
            result.diagnostics.map(\.description),
            [
                "lvs.cf:3:1: warning: virtual 'Web-Cluster-v4' has fwmark = 100 and no address: h2e brings up no VIP "
                    + "for it; the addresses marked 100 must be put on this director and marked by other means, or listed with "
                    + "site_address / site_addresses"
            ])
        let virtual = try XCTUnwrap(result.configuration?.virtualServers.first)
        XCTAssertNil(virtual.address)
        XCTAssertEqual(virtual.family, .ipv4)
        XCTAssertEqual(virtual.firewallMark, 100)
    }

    func testAnIPv6FwmarkVirtualTakesItsServersFamily() throws {
        let text = markedVirtual("v6", port: 80).replacing("10.0.1.2", with: "2001:db8::2").replacing("10.0.1.3", with: "2001:db8::3")
        let virtual = try XCTUnwrap(LVSConfigParser.parse(text).configuration?.virtualServers.first)
        XCTAssertEqual(virtual.family, .ipv6)
    }

    func testAVirtualWithoutFwmarkStillNeedsAnAddress() {
        XCTAssertEqual(
            diagnostics("virtual web {\n active = 1\n port = 80\n}\n"),
            ["lvs.cf:1:1: virtual 'web' has no address; add address = IP DEVICE (e.g. address = 10.0.0.10 eth0:1)"])
    }

    func testVirtualsSharingAFwmarkAreOneServiceWhenTheyAgree() throws {
        let text = markedVirtual("http", port: 80, address: "10.0.0.10 eth0:1")
            + markedVirtual("https", port: 443, address: "10.0.0.10 eth0:1")
        let result = LVSConfigParser.parse(text, file: "lvs.cf")
        XCTAssertEqual(result.diagnostics.map(\.description), [])
        XCTAssertEqual(result.configuration?.virtualServers.map(\.name), ["http", "https"])
    }

    func testSharingVirtualsThatDisagreeAreAnErrorNamingBothLines() {
        let text = markedVirtual("http", port: 80, extra: "    scheduler = wlc\n    persistent = 300")
            + markedVirtual("https", port: 443, extra: "    scheduler = lblc\n    persistent = 60\n    protocol = udp")
        let messages = diagnostics(text).filter { !$0.contains("warning") }
        XCTAssertEqual(
            messages,
            [
                "lvs.cf:26:5: virtual 'https' shares fwmark 100 IPv4 with virtual 'http' at line 1, so they are one IPVS "
                    + "service, but its scheduler is lblc and 'http' has wlc; make them agree",
                "lvs.cf:27:5: virtual 'https' shares fwmark 100 IPv4 with virtual 'http' at line 1, so they are one IPVS "
                    + "service, but its persistent is 60 and 'http' has 300; make them agree",
                "lvs.cf:28:5: virtual 'https' shares fwmark 100 IPv4 with virtual 'http' at line 1, so they are one IPVS "
                    + "service, but its protocol is udp and 'http' has tcp; make them agree",
            ])
    }

    func testTwoVirtualsOnOneAddressAndPortAreStillAnError() {
        let text = virtualBlock("", name: "a") + virtualBlock("", name: "b")
        XCTAssertTrue(
            diagnostics(text).contains { $0.contains("virtual 'b' is the same IPVS service (tcp 10.0.0.10 port 80) as virtual 'a'") },
            "\(diagnostics(text))")
    }

    func testTheWriterLeavesOutAMissingAddressAndReadsBackTheSame() throws {
        let text = markedVirtual("http", port: 80) + markedVirtual("https", port: 443)
        let configuration = try XCTUnwrap(LVSConfigParser.parse(text).configuration)
        let written = LVSConfigWriter.write(configuration)
        XCTAssertFalse(written.contains("    address = 10.0.0"), written)
        XCTAssertEqual(LVSConfigParser.parse(written).configuration, configuration)
    }
}

/// Site addresses (`site_address`, `site_addresses`, `site_device`): what the parser takes and refuses.
final class SiteAddressConfigurationTests: XCTestCase {
    func virtual(_ lines: String, mark: Bool = true) -> String {
        """
        virtual sites {
            active = 1
        \(mark ? "    fwmark = 100\n" : "    address = 10.0.0.10 eth0:1\n")\(lines)
            server web1 {
                active = 1
                address = 10.0.1.2
            }
        }

        """
    }

    func testInlineSiteAddressesAddUpLineByLineWithoutTheSetAgainWarning() throws {
        let result = LVSConfigParser.parse(
            virtual("    site_device = eth0\n    site_address = 10.0.2.1 10.0.2.2\n    site_address = 10.0.2.3 10.0.2.1\n"))
        XCTAssertEqual(result.diagnostics.map(\.description), ["lvs.cf:6:29: warning: site address 10.0.2.1 is listed twice"])
        let v = try XCTUnwrap(result.configuration?.virtualServers.first)
        XCTAssertEqual(v.siteAddresses.map(\.description), ["10.0.2.1", "10.0.2.2", "10.0.2.3"])
        XCTAssertEqual(v.effectiveSiteDevice, "eth0")
        // The writer keeps them, and reads back the same.
        let written = LVSConfigWriter.write(try XCTUnwrap(result.configuration))
        XCTAssertEqual(LVSConfigParser.parse(written).configuration, result.configuration, written)
    }

    func testSiteAddressesAreRefusedWithoutFwmarkOrInterfaceOrInTheOtherFamily() {
        XCTAssertEqual(
            diagnostics(virtual("    site_address = 10.0.2.1\n", mark: false)),
            ["lvs.cf:4:5: site addresses need fwmark = MARK in virtual 'sites': their traffic reaches the service by "
                + "the mark h2e puts on it"])
        XCTAssertEqual(
            diagnostics(virtual("    site_address = 10.0.2.1\n")),
            ["lvs.cf:4:5: virtual 'sites' has site addresses but no interface for them; add site_device = eth0"])
        XCTAssertEqual(
            diagnostics(virtual("    site_device = eth0\n    site_address = 2001:db8::1\n")),
            ["lvs.cf:5:5: site address 2001:db8::1 is IPv6 but virtual 'sites' (fwmark 100) is IPv4; IPVS keeps one "
                + "family per service: list it in a virtual with fwmark 100 and IPv6 servers"])
        XCTAssertEqual(
            diagnostics(virtual("    site_device = eth0:1\n    site_address = 10.0.2.1\n")).first?.hasPrefix("lvs.cf:4:19:"), true)
    }

    /// The file of a hosting panel: read by parseFile, relative to lvs.cf; its errors name it, line and column;
    /// the addresses of the other family are left for a virtual of that family.
    func testTheSiteAddressFileIsReadRelativeToLvsCfAndItsErrorsNameItsLines() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("h2e-sites-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = "\(directory)/lvs.cf"
        try virtual("    site_device = eth0\n    site_addresses = sites.list\n    site_address = 10.0.2.1\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        try "# deploy_v4_ips\n10.0.2.1\n10.0.2.2   # shop\n\n  2001:db8::5\n10.0.2.3\n"
            .write(toFile: "\(directory)/sites.list", atomically: true, encoding: .utf8)
        let result = LVSConfigParser.parseFile(atPath: config)
        XCTAssertEqual(
            result.diagnostics.map(\.description),
            ["\(directory)/sites.list: warning: 1 IPv6 addresses (2001:db8::5...) are not used: virtual 'sites' is "
                + "IPv4; add a virtual with the same fwmark, IPv6 servers and this site_addresses file"])
        let v = try XCTUnwrap(result.configuration?.virtualServers.first)
        XCTAssertEqual(v.allSiteAddresses.map(\.description), ["10.0.2.1", "10.0.2.2", "10.0.2.3"])

        try "10.0.2.1\n 10.0.2.300\n10.0.2.4 10.0.2.5\n".write(
            toFile: "\(directory)/sites.list", atomically: true, encoding: .utf8)
        let bad = LVSConfigParser.parseFile(atPath: config)
        XCTAssertNil(bad.configuration, "a bad line fails the whole configuration: the running one stays")
        XCTAssertEqual(
            bad.errors.map(\.description),
            [
                "\(directory)/sites.list:2:2: '10.0.2.300' is not an IPv4 or IPv6 address (one site address a line, # comments)",
                "\(directory)/sites.list:3:10: one address a line: unexpected '10.0.2.5' after 10.0.2.4",
            ])
        try FileManager.default.removeItem(atPath: "\(directory)/sites.list")
        XCTAssertEqual(
            LVSConfigParser.parseFile(atPath: config).errors.map(\.description),
            ["\(directory)/sites.list: cannot open: No such file or directory (the site_addresses of virtual 'sites' in \(config))"])
    }
}
