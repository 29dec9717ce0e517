import Addressing
@testable import IPVS
import XCTest

final class IPVSListingTests: XCTestCase {
    private let info = IPVSInfo(version: 0x010201, connectionTableSize: 4096)

    func testTheKnowledgeBaseTableLooksLikeIpvsadm() {
        // The table of KB 114327 (addresses filled in), in ipvsadm 1.31's layout.
        var service = VirtualService(key: .firewallMark(100, family: .ipv4))
        service.destinations = [
            Destination(address: IPAddress("10.0.0.3")!, port: 0, weight: 32),
            Destination(address: IPAddress("10.0.0.2")!, port: 0, weight: 32),
        ]
        service.destinations[0].activeConnections = 1
        XCTAssertEqual(IPVSListing().render(info: info, table: IPVSTable(services: [service])), """
            IP Virtual Server version 1.2.1 (size=4096)
            Prot LocalAddress:Port Scheduler Flags
              -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
            FWM  100 lblc
              -> 10.0.0.2:0                   Route   32     0          0         
              -> 10.0.0.3:0                   Route   32     1          0         

            """)
    }

    func testStatisticsAbbreviateLargeNumbersAsIpvsadm() {
        XCTAssertEqual(IPVSListing.largeNumber(62306), "    62306")
        XCTAssertEqual(IPVSListing.largeNumber(99_999_999), " 99999999")
        XCTAssertEqual(IPVSListing.largeNumber(100_000_000), "  100000K")
        XCTAssertEqual(IPVSListing.largeNumber(1_500_000_000), "    1500M")
        XCTAssertEqual(IPVSListing.largeNumber(250_000_000_000), "     250G")
        XCTAssertEqual(IPVSListing.largeNumber(300_000_000_000_000), "     300T")

        var service = VirtualService(key: .firewallMark(100, family: .ipv4))
        var stats = IPVSStatistics()
        stats.connections = 62306
        stats.inPackets = 825_071
        stats.inBytes = 49_897_843
        service.statistics = stats
        let text = IPVSListing(format: .statistics).render(info: info, table: IPVSTable(services: [service]))
        XCTAssertEqual(text.split(separator: "\n").map(String.init), [
            "IP Virtual Server version 1.2.1 (size=4096)",
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes",
            "  -> RemoteAddress:Port",
            "FWM  100                             62306   825071        0 49897843        0",
        ])
    }

    func testServicesSortAsLibipvsDoes() {
        let keys: [ServiceKey] = [
            .firewallMark(100, family: .ipv4), .firewallMark(7, family: .ipv6),
            .address(.udp, IPAddress("10.0.0.1")!, port: 53), .address(.tcp, IPAddress("10.0.0.1")!, port: 443),
            .address(.tcp, IPAddress("10.0.0.1")!, port: 80), .address(.tcp, IPAddress("2001:db8::1")!, port: 80),
        ]
        let sorted = keys.map { VirtualService(key: $0) }.sorted(by: IPVSListing.ipvsadmOrder).map(\.key.description)
        XCTAssertEqual(sorted, ["TCP 10.0.0.1:80", "TCP 10.0.0.1:443", "UDP 10.0.0.1:53", "TCP [2001:db8::1]:80", "FWM 7 IPv6", "FWM 100"])
    }

    func testPersistenceFlagsAndIPv6Rendering() {
        let v6 = VirtualService(key: .address(.udp, IPAddress("2001:db8::1")!, port: 53), scheduler: .sourceHashing,
                                persistence: .init(timeout: 30, netmask: 64), onePacket: true, schedulerFlags: [.fallback, .port])
        let v4 = VirtualService(key: .address(.tcp, IPAddress("10.0.0.1")!, port: 80), scheduler: .weightedRoundRobin,
                                persistence: .perClient(timeout: 300, family: .ipv4), schedulerFlags: [.flag3])
        let lines = IPVSListing().render(info: info, table: IPVSTable(services: [v6, v4])).split(separator: "\n").dropFirst(3)
        XCTAssertEqual(Array(lines), ["TCP  10.0.0.1:80 wrr (flag-3) persistent 300", "UDP  [2001:db8::1]:53 sh (sh-fallback,sh-port) persistent 30 mask 64 ops"])
    }
}
