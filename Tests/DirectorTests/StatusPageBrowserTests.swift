import Director
import Foundation
import TestSupport
import XCTest

/// The read-only status page as an operator sees it: loaded by Debian's headless Chromium from a running daemon
/// (in its own network namespace, on loopback), scripts run, and what the page shows is checked in the DOM.
/// A screenshot is kept for people: $H2E_ARTIFACTS (default /tmp/h2e-artifacts)/status-page.png.
final class StatusPageBrowserTests: XCTestCase {
    private var fixture: DaemonFixture!

    override func setUp() async throws {
        try DaemonFixture.requirements()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") else {
            throw unavailable("needs Debian's chromium: apt-get install chromium (scripts/apt)")
        }
        fixture = try DaemonFixture()
    }

    override func tearDown() async throws {
        fixture?.stop()
    }

    func testTheStatusPageShowsRoleServersHealthAndWeights() async throws {
        try fixture.writeConfiguration(fixture.configuration())
        try await fixture.start()
        let up = await waitUntil(timeout: .seconds(15)) {
            let s = try? await self.fixture.status()
            return s?.server("web", "web1")?.health == "up" && s?.server("web", "web2")?.health == "up"
        }
        XCTAssertTrue(up, "both servers pass their checks")

        let url = "http://127.0.0.1:\(fixture.metricsPort)/"
        let profile = fixture.directory + "/chromium"
        let browser = "env HOME=\(profile) XDG_CONFIG_HOME=\(profile) XDG_CACHE_HOME=\(profile) chromium --headless=new --no-sandbox --disable-gpu --no-first-run"
        let dom = try fixture.inNamespace("\(browser) --dump-dom \(url) 2>/dev/null")
        XCTAssertEqual(dom.status, 0, dom.output)
        let page = dom.output
        XCTAssertTrue(page.contains("<title>"), page)
        for shown in ["active", "web1", "web2", "127.0.0.2", "127.0.0.3", "TCP 10.0.0.10:80", ">32<", ">16<", "up"] {
            XCTAssertTrue(page.contains(shown), "the page shows \(shown):\n\(page)")
        }
        XCTAssertFalse(page.contains("<form"), "the status page is read-only")

        let artifacts = ProcessInfo.processInfo.environment["H2E_ARTIFACTS"] ?? "/tmp/h2e-artifacts"
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        let screenshot = artifacts + "/status-page.png"
        try? FileManager.default.removeItem(atPath: screenshot)
        let shot = try fixture.inNamespace("\(browser) --window-size=1024,768 --screenshot=\(screenshot) \(url) 2>/dev/null")
        XCTAssertEqual(shot.status, 0, shot.output)
        let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG")
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual([width, height], [1024, 768])
        print("status page screenshot: \(screenshot)")
    }
}
