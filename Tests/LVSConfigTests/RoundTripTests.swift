import XCTest

@testable import LVSConfig

final class RoundTripTests: XCTestCase {
    /// parse(write(c)) == c over thousands of random configurations (seeded: a failure names its seed). Seeds run
    /// in order up to 3000, stopping after 5 s on a slow machine once 500 have passed. `LVSCONFIG_ROUNDTRIP_COUNT`
    /// runs that many seeds without the time limit (longer local runs).
    func testWriteThenParseGivesBackTheConfiguration() {
        let requested = ProcessInfo.processInfo.environment["LVSCONFIG_ROUNDTRIP_COUNT"].flatMap { UInt64($0) }
        let deadline = ContinuousClock.now + .seconds(5)
        for seed in UInt64(1)...(requested ?? 3000) {
            if requested == nil, seed > 500, ContinuousClock.now > deadline {
                print("round trip: stopped at the time limit after \(seed - 1) configurations")
                break
            }
            var generator = ConfigGenerator(seed: seed)
            let configuration = generator.configuration()
            let text = LVSConfigWriter.write(configuration)
            let result = LVSConfigParser.parse(text)
            guard let parsed = result.configuration else {
                XCTFail(
                    "seed \(seed): the written text does not parse:\n\(result.errors.map(\.description).joined(separator: "\n"))\n\(text)"
                )
                return
            }
            if parsed != configuration {
                XCTFail("seed \(seed): round trip differs\n\(text)\nwritten again:\n\(LVSConfigWriter.write(parsed))")
                return
            }
        }
    }

    func testFixturesRoundTrip() {
        for fixture in [Fixtures.kb114327, Fixtures.piranhaSample] {
            let (configuration, _) = parseValid(fixture)
            let written = LVSConfigWriter.write(configuration)
            XCTAssertEqual(LVSConfigParser.parse(written).configuration, configuration, written)
        }
    }

    func testCanonicalText() {
        let (configuration, _) = parseValid(Fixtures.kb114327)
        XCTAssertEqual(
            LVSConfigWriter.write(configuration),
            """
            primary = 10.0.0.10
            network = direct
            service = lvs

            virtual Web-Cluster-v4 {
            \tactive = 1
            \taddress = 10.0.0.10 eth1:1
            \tport = 80
            \tprotocol = tcp
            \tsend = "GET / HTTP/1.0\\r\\n\\r\\n"
            \texpect = "HTTP"
            \tfwmark = 100
            \tscheduler = lblc
            \treentry = 10
            \tload_monitor = /usr/sbin/h2e-load

            \tserver web1 {
            \t\taddress = 10.0.0.2
            \t\tactive = 1
            \t\tweight = 32
            \t}

            \tserver web2 {
            \t\taddress = 10.0.0.3
            \t\tactive = 1
            \t\tweight = 32
            \t}
            }

            """)
    }
}
