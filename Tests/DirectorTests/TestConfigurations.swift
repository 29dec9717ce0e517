import LVSConfig
import XCTest

/// lvs.cf texts for the director tests, parsed with the real parser.
enum TestConfigurations {
    static func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> LVSConfiguration {
        let result = LVSConfigParser.parse(text)
        guard let configuration = result.configuration else {
            XCTFail("test configuration does not parse: \(result.errors)", file: file, line: line)
            return LVSConfiguration()
        }
        return configuration
    }

    /// Two virtual servers: a TCP one with two real servers (direct routing), and a fwmark one.
    static let web = """
        network = direct
        service = lvs

        virtual web {
            active = 1
            address = 10.0.0.10 eth0:1
            port = 80
            protocol = tcp
            scheduler = wlc
            server web1 {
                active = 1
                address = 10.0.0.2
                weight = 32
            }
            server web2 {
                active = 1
                address = 10.0.0.3
                weight = 16
            }
            server spare {
                active = 0
                address = 10.0.0.4
                weight = 8
            }
        }

        virtual marked {
            active = 1
            address = 10.0.0.11 eth0:2
            fwmark = 100
            port = 443
            persistent = 300
            pmask = 255.255.255.0
            server m1 {
                active = 1
                address = 10.0.0.5
                weight = 10
            }
        }

        virtual off {
            active = 0
            address = 10.0.0.12 eth0:3
            server o1 {
                active = 1
                address = 10.0.0.6
            }
        }

        """
}
