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
                    + "for it; the addresses marked 100 must be put on this director and marked by other means"
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
