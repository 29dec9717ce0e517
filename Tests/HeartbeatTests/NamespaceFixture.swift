import Foundation
import TestSupport
import XCTest

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// A veth pair made by the test: `local` stays in this (root) namespace for the code under test, `remote` lives in a
/// fresh network namespace `namespace` as the LAN peer. Removed again by ``tearDown()``.
struct VethFixture {
    let namespace: String
    let local: String
    let remote: String
    /// The peer's subnet: 10.213.N.0/24 (peer at .2) and fd00:213:N::/64 (peer at ::2).
    let subnet: Int

    static func make(tag: String) throws -> VethFixture {
        guard getuid() == 0 else { throw unavailable("needs root for network namespaces") }
        guard (try? shell("command -v ip"))?.status == 0 else { throw unavailable("needs iproute2's ip") }
        let id = Int(getpid()) % 100_000
        let fixture = VethFixture(
            namespace: "h2ehb-\(tag)-\(id)", local: "h2e\(tag)\(id)a", remote: "h2e\(tag)\(id)b", subnet: id % 250)
        fixture.tearDown()
        let setup = """
            set -e
            ip netns add \(fixture.namespace)
            ip link add \(fixture.local) type veth peer name \(fixture.remote) netns \(fixture.namespace)
            ip link set \(fixture.local) up
            ip netns exec \(fixture.namespace) ip link set lo up
            ip netns exec \(fixture.namespace) ip link set \(fixture.remote) up
            ip netns exec \(fixture.namespace) ip addr add 10.213.\(fixture.subnet).2/24 dev \(fixture.remote)
            ip netns exec \(fixture.namespace) ip addr add fd00:213:\(fixture.subnet)::2/64 dev \(fixture.remote) nodad
            ip netns exec \(fixture.namespace) sh -c 'echo 1 > /proc/sys/net/ipv4/conf/\(fixture.remote)/arp_accept'
            """
        let result = try shell(setup)
        guard result.status == 0 else {
            fixture.tearDown()
            throw unavailable("cannot create a network namespace with a veth pair: \(result.output)")
        }
        return fixture
    }

    func tearDown() {
        _ = try? shell("ip link del \(local) 2>/dev/null; ip netns del \(namespace) 2>/dev/null")
    }

    /// The local end's MAC as `ip` prints it.
    func localMAC() throws -> String {
        try String(contentsOfFile: "/sys/class/net/\(local)/address", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The peer namespace's neighbour entry for `address`, as `ip neigh` prints it (empty if none).
    func peerNeighbour(_ address: String) throws -> String {
        try shell("ip netns exec \(namespace) ip neigh show \(address) dev \(remote)").output
    }

    /// `ip -o addr show dev LOCAL` in this namespace.
    func localAddresses() throws -> String {
        try shell("ip -o addr show dev \(local)").output
    }
}
