import XCTest

@testable import LVSConfig

/// `scale_out = 1` and `scheduler_flags`: the defaults a group needs, and the combinations that cannot work named
/// with their line and column.
final class ScaleOutConfigTests: XCTestCase {
    func testScaleOutDefaultsToMaglevWithFallbackAndPortAndKeepsANamedScheduler() {
        let (configuration, warnings) = parseValid(
            "network = direct\nscale_out = 1\n" + virtualBlock("") + virtualBlock("\tport = 81\n\tscheduler = sh\n", name: "sticky"))
        XCTAssertEqual(warnings, [])
        XCTAssertTrue(configuration.global.scaleOut)
        XCTAssertEqual(configuration.global.announceDevice, "h2e0")
        XCTAssertEqual(configuration.virtualServers.map(\.scheduler), [.mh, .sh])
        XCTAssertEqual(configuration.virtualServers.map(\.schedulerFlags), [[.flag1, .flag2], []])
    }

    func testWithoutScaleOutTheDefaultStaysLblc() {
        let (configuration, _) = parseValid("network = direct\n" + virtualBlock(""))
        XCTAssertEqual(configuration.virtualServers[0].scheduler, .lblc)
        XCTAssertEqual(configuration.virtualServers[0].schedulerFlags, [])
    }

    func testWhatCannotWorkWithSeveralActiveDirectorsIsAnError() {
        XCTAssertEqual(
            diagnostics("scale_out = 1\n" + virtualBlock("")).first,
            "lvs.cf:1:1: scale_out = 1 needs network = direct or tunnel: with nat the replies must return "
                + "through the director that forwarded the request, and ECMP sends them to any director")
        let pair = diagnostics(
            "network = direct\nprimary = 10.0.0.1\nbackup = 10.0.0.2\nbackup_active = 1\nheartbeat = 1\n"
                + "heartbeat_auth = none\nscale_out = 1\n" + virtualBlock(""))
        XCTAssertTrue(pair.contains { $0.hasPrefix("lvs.cf:7:1: scale_out = 1 makes every director active") }, "\(pair)")
    }

    func testASchedulerThatLetsDirectorsDisagreeIsAWarning() {
        let (_, warnings) = parseValid("network = direct\nscale_out = 1\n" + virtualBlock("\tscheduler = wlc\n"))
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings[0].description.hasPrefix("lvs.cf:6:2: warning: with scale_out = 1 each director"), "\(warnings)")
    }

    func testSchedulerFlagsTakeIpvsadmsNamesAndRoundTrip() throws {
        let (configuration, _) = parseValid(virtualBlock("\tscheduler = sh\n\tscheduler_flags = sh-port,flag-3\n"))
        XCTAssertEqual(configuration.virtualServers[0].schedulerFlags, [.flag2, .flag3])
        let written = LVSConfigWriter.write(configuration)
        XCTAssertTrue(written.contains("scheduler_flags = sh-port,flag-3"), written)
        XCTAssertEqual(LVSConfigParser.parse(written).configuration, configuration)
        XCTAssertEqual(
            diagnostics(virtualBlock("\tscheduler_flags = mh-fallback,mh-sticky\n")),
            ["lvs.cf:4:20: 'mh-sticky' is not a scheduler flag: mh-fallback, mh-port, sh-fallback, sh-port, "
                + "flag-1, flag-2 or flag-3, separated by commas"])
    }

    func testAScaleOutConfigurationRoundTrips() throws {
        let (configuration, _) = parseValid(
            "network = direct\nscale_out = 1\nannounce_device = vip0\nbird_socket = /run/bird2.ctl\n"
                + "scale_out_peers = 10.0.0.12:9180 [fd00::13]:9180\n" + virtualBlock(""))
        let written = LVSConfigWriter.write(configuration)
        XCTAssertEqual(LVSConfigParser.parse(written).configuration, configuration, written)
        XCTAssertEqual(configuration.global.announceDevice, "vip0")
        XCTAssertEqual(configuration.global.birdSocket, "/run/bird2.ctl")
        XCTAssertEqual(configuration.global.scaleOutPeers.map(\.description), ["10.0.0.12:9180", "[fd00::13]:9180"])
        XCTAssertEqual(
            diagnostics("scale_out_peers = 10.0.0.12\n"),
            ["lvs.cf:1:19: '10.0.0.12' is not ADDRESS:PORT for 'scale_out_peers' (e.g. 10.0.0.12:9180, [fd00::12]:9180)"])
    }
}
