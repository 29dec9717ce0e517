import Foundation
import TestSupport
import IPVS
import XCTest

/// Real traffic through IPVS NAT: a client namespace, the director (the VM's root namespace) and two real servers
/// running busybox httpd in their own namespaces. The counters our client reads equal ipvsadm's.
final class NATTrafficKernelTests: XCTestCase {
    private let namespaces = ["h2e-client", "h2e-rs1", "h2e-rs2"]

    override func setUp() async throws {
        try requireIPVSKernel()
        try await IPVSClient().flush()
        try mustRun("""
            set -e
            sysctl -qw net.ipv4.ip_forward=1
            ip netns add h2e-client; ip netns add h2e-rs1; ip netns add h2e-rs2
            ip link add d0 type veth peer name c0 netns h2e-client
            ip addr add 10.10.0.1/24 dev d0; ip addr add 10.10.0.100/32 dev d0; ip link set d0 up
            ip -n h2e-client addr add 10.10.0.2/24 dev c0; ip -n h2e-client link set c0 up; ip -n h2e-client link set lo up
            for i in 1 2; do
              ip link add d$i type veth peer name r$i netns h2e-rs$i
              ip addr add 10.2$i.0.1/24 dev d$i; ip link set d$i up
              ip -n h2e-rs$i addr add 10.2$i.0.2/24 dev r$i; ip -n h2e-rs$i link set r$i up; ip -n h2e-rs$i link set lo up
              ip -n h2e-rs$i route add default via 10.2$i.0.1
              mkdir -p /tmp/h2e-www$i; echo "server rs$i" > /tmp/h2e-www$i/index.html
              ip netns exec h2e-rs$i busybox httpd -p 10.2$i.0.2:80 -h /tmp/h2e-www$i </dev/null >/dev/null 2>&1
            done
            """)
    }

    override func tearDown() async throws {
        _ = try? shell("pkill -f 'busybox httpd' ; for n in \(namespaces.joined(separator: " ")); do ip netns del $n; done; ip link del d0; ip link del d1; ip link del d2")
        try? await IPVSClient().flush()
    }

    func testCountersAfterRealTrafficEqualIpvsadms() async throws {
        let client = try IPVSClient()
        let key = ServiceKey.address(.tcp, v4("10.10.0.100"), port: 80)
        var service = VirtualService(key: key, scheduler: .roundRobin)
        service.destinations = [
            Destination(address: v4("10.21.0.2"), port: 80, forwarding: .masquerade),
            Destination(address: v4("10.22.0.2"), port: 80, forwarding: .masquerade),
        ]
        try await client.apply(IPVSReconciler.changes(from: try await client.table(), to: IPVSTable(services: [service])))

        let requests = 20
        let bodies = try mustRun("for i in $(seq \(requests)); do ip netns exec h2e-client curl -s -m 2 http://10.10.0.100/; done")
        XCTAssertEqual(bodies.components(separatedBy: "server rs1").count - 1, requests / 2, bodies)
        XCTAssertEqual(bodies.components(separatedBy: "server rs2").count - 1, requests / 2, bodies)

        // The kernel folds its per-CPU counters into the totals every 2 s: read both sides until every connection is
        // counted and they agree, or time out.
        var ipvsadm = ""
        var ours: VirtualService?
        let agreed = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(200)) {
            ours = try await client.table()[key]
            ipvsadm = try mustRun("ipvsadm -Ln --stats --exact")
            return ours?.statistics?.connections == UInt64(requests)
                && ours.map { Self.exactStatsLines(of: $0) } == Self.serviceAndDestinationLines(ipvsadm)
        }
        XCTAssertTrue(agreed, "ours: \(ours.map { Self.exactStatsLines(of: $0) } ?? []) ipvsadm:\n\(ipvsadm)")
        XCTAssertEqual(ours?.statistics?.connections, UInt64(requests))
        XCTAssertEqual(ours?.destinations.map { $0.statistics?.connections }, [10, 10])
        XCTAssertGreaterThan(ours?.statistics?.inBytes ?? 0, 0)
        XCTAssertGreaterThan(ours?.statistics?.outBytes ?? 0, 0, "NAT sees the replies too")
    }

    /// Our counters as ipvsadm --exact prints them: name, then the five counters.
    static func exactStatsLines(of service: VirtualService) -> [[String]] {
        func numbers(_ s: IPVSStatistics?) -> [String] {
            let s = s ?? IPVSStatistics()
            return [s.connections, s.inPackets, s.outPackets, s.inBytes, s.outBytes].map(String.init)
        }
        var lines = [["TCP", service.key.description.split(separator: " ").last.map(String.init) ?? ""] + numbers(service.statistics)]
        for destination in service.destinations.sorted(by: { $0.address < $1.address }) {
            lines.append(["->", destination.id.description] + numbers(destination.statistics))
        }
        return lines
    }

    static func serviceAndDestinationLines(_ output: String) -> [[String]] {
        output.split(separator: "\n").dropFirst(3).map { $0.split(separator: " ").map(String.init) }
    }
}
