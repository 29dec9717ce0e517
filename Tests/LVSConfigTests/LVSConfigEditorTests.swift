import Addressing
import XCTest

@testable import LVSConfig

/// Cluster edits keep what the operator wrote: comments, blank lines, order, spelling, indentation.
final class LVSConfigEditorTests: XCTestCase {
    static let text = """
        # The web farm (KB 114327)
        network = direct
        virtual sites {
        \tactive = 1
        \tfwmark = 100   # marked by h2e
        \tsite_device = eth0
        \tsite_address = 10.0.2.1 10.0.2.2  # shop, blog

        \t# the first webserver
        \tserver web1 {
        \t\taddress = 10.0.1.2
        \t\tactive = 1
        \t}
        \tserver web2 {
        \t\taddress = 10.0.1.3
        \t\tactive = 1
        \t}
        }

        """

    func edit(_ edit: LVSConfigEdit, _ text: String = text) throws -> LVSConfigEditor.Outcome {
        let configuration = try XCTUnwrap(LVSConfigParser.parse(text).configuration)
        let outcome = try LVSConfigEditor.apply(edit, to: text, configuration: configuration, file: "/etc/lvs.cf") { _ in "" }
        XCTAssertNotNil(LVSConfigParser.parse(outcome.text).configuration, "the edit parses:\n\(outcome.text)")
        return outcome
    }

    func testAddingAServerAppendsABlockIndentedLikeTheFileAndTouchesNothingElse() throws {
        let outcome = try edit(.addServer(virtual: "sites", name: "web3", address: IPAddress("10.0.1.4")!, weight: 5))
        XCTAssertEqual(
            outcome.text,
            Self.text.replacingOccurrences(
                of: "\t}\n}\n", with: "\t}\n\tserver web3 {\n\t\taddress = 10.0.1.4\n\t\tactive = 1\n\t\tweight = 5\n\t}\n}\n"))
        XCTAssertEqual(outcome.change, "virtual 'sites': added server web3 (10.0.1.4, weight 5)")
        // Spaces in, spaces out.
        let spaced = Self.text.replacingOccurrences(of: "\t", with: "    ")
        XCTAssertTrue(
            try edit(.addServer(virtual: "sites", name: "web3", address: IPAddress("10.0.1.4")!, weight: 1), spaced).text
                .contains("    }\n    server web3 {\n        address = 10.0.1.4\n"))
    }

    func testRemovingAServerTakesExactlyItsLinesAndKeepsTheCommentAboveIt() throws {
        let outcome = try edit(.removeServer(virtual: "sites", name: "web1"))
        XCTAssertEqual(
            outcome.text, Self.text.replacingOccurrences(of: "\tserver web1 {\n\t\taddress = 10.0.1.2\n\t\tactive = 1\n\t}\n", with: ""))
        XCTAssertTrue(outcome.text.contains("\t# the first webserver\n\tserver web2 {"))
    }

    func testSiteAddressesGoOnTheirOwnLineAndComeOffTheLineThatHasThem() throws {
        let added = try edit(.addSiteAddress(virtual: "sites", address: IPAddress("10.0.2.9")!))
        XCTAssertEqual(
            added.text,
            Self.text.replacingOccurrences(of: "  # shop, blog\n", with: "  # shop, blog\n\tsite_address = 10.0.2.9\n"))
        let removed = try edit(.removeSiteAddress(virtual: "sites", address: IPAddress("10.0.2.1")!))
        XCTAssertEqual(removed.text, Self.text.replacingOccurrences(of: "10.0.2.1 10.0.2.2  # shop", with: "10.0.2.2  # shop"))
        let both = try edit(.removeSiteAddress(virtual: "sites", address: IPAddress("10.0.2.2")!), removed.text)
        XCTAssertFalse(both.text.contains("site_address"), both.text)
    }

    func testRefusalsSayWhatIsWrong() throws {
        let configuration = try XCTUnwrap(LVSConfigParser.parse(Self.text).configuration)
        func refusal(_ edit: LVSConfigEdit) -> String {
            do {
                _ = try LVSConfigEditor.apply(edit, to: Self.text, configuration: configuration, file: "lvs.cf") { _ in "" }
                return "accepted"
            } catch {
                return error.description
            }
        }
        XCTAssertEqual(refusal(.removeServer(virtual: "web", name: "web1")), "no virtual server 'web' in lvs.cf; it has: sites")
        XCTAssertEqual(refusal(.removeServer(virtual: "sites", name: "web9")), "virtual 'sites' has no server 'web9'; it has: web1, web2")
        XCTAssertEqual(
            refusal(.addServer(virtual: "sites", name: "web1", address: IPAddress("10.0.1.9")!, weight: 1)),
            "virtual 'sites' already has a server 'web1'; remove it first or pick another name")
        XCTAssertEqual(
            refusal(.addServer(virtual: "sites", name: "new", address: IPAddress("10.0.1.3")!, weight: 1)),
            "virtual 'sites' already has 10.0.1.3 as server 'web2'")
        XCTAssertEqual(refusal(.addSiteAddress(virtual: "sites", address: IPAddress("10.0.2.2")!)), "virtual 'sites' already has the site address 10.0.2.2")
        XCTAssertEqual(refusal(.removeSiteAddress(virtual: "sites", address: IPAddress("10.0.2.7")!)), "virtual 'sites' has no site address 10.0.2.7")
    }

    func testAVirtualWithASiteFileIsEditedThere() throws {
        let text = Self.text.replacingOccurrences(of: "\tsite_address = 10.0.2.1 10.0.2.2  # shop, blog\n", with: "\tsite_addresses = sites.list\n")
        var configuration = try XCTUnwrap(LVSConfigParser.parse(text).configuration)
        configuration.virtualServers[0].fileSiteAddresses = [IPAddress("10.0.2.5")!]
        let file = "# panel\n10.0.2.5\n"
        let added = try LVSConfigEditor.apply(
            .addSiteAddress(virtual: "sites", address: IPAddress("10.0.2.6")!), to: text, configuration: configuration,
            file: "/etc/ha/lvs.cf") { path in
            XCTAssertEqual(path, "/etc/ha/sites.list")
            return file
        }
        XCTAssertEqual(added.text, text)
        XCTAssertEqual(added.siteFile?.path, "/etc/ha/sites.list")
        XCTAssertEqual(added.siteFile?.text, "# panel\n10.0.2.5\n10.0.2.6\n")
        let removed = try LVSConfigEditor.apply(
            .removeSiteAddress(virtual: "sites", address: IPAddress("10.0.2.5")!), to: text, configuration: configuration,
            file: "/etc/ha/lvs.cf") { _ in file }
        XCTAssertEqual(removed.siteFile?.text, "# panel\n")
    }
}
