import Foundation
import TestSupport
import XCTest

/// The standard test cluster of scripts/lib/topology.sh (client, directors lb1/lb2, real servers web1/web2 with direct
/// routing, VIP 10.0.0.10), with an `h2e-director run` in each director namespace.
///
/// Every command sources topology.sh, so tests, the benchmark and the demo share one topology.
struct FailoverCluster {
    static let vip = "10.0.0.10"
    static let directors = ["lb1", "lb2"]

    let directory: String
    let privateNetwork: Bool
    let director: URL

    /// Builds the topology (with the private heartbeat network if asked) and writes lvs.cf and the key. With
    /// `siteCount` > 0, lvs.cf also has the fwmark virtual `sites` (fwmark 100, marks by iptables-legacy) whose site
    /// addresses 10.0.2.1... are listed in DIR/sites.list; the real servers hold 10.0.2.0/24 on their loopback and
    /// the client routes it on its link.
    init(privateNetwork: Bool = false, syncDaemon: Bool = false, siteCount: Int = 0) throws {
        director = productsDirectory.appendingPathComponent("h2e-director")
        guard FileManager.default.isExecutableFile(atPath: director.path) else {
            throw unavailable("\(director.path) is not built: swift build --build-tests builds it")
        }
        let help = try shell("\(director.path) run --help")
        guard help.status == 0, help.output.contains("h2e-director run") else {
            throw unavailable("h2e-director has no working `run` subcommand yet: \(help.output.prefix(200))")
        }
        for tool in ["ip", "busybox", "curl", "ipvsadm", "python3"] where try shell("command -v \(tool)").status != 0 {
            throw unavailable("\(tool) is not installed (scripts/apt/failover.list)")
        }
        directory = try mustRun("mktemp -d /tmp/h2e-failover.XXXXXX").trimmingCharacters(in: .whitespacesAndNewlines)
        self.privateNetwork = privateNetwork
        try mustRun("head -c 32 /dev/urandom | base64 > \(directory)/heartbeat.key && chmod 600 \(directory)/heartbeat.key")
        var text = Self.configuration(directory: directory, privateNetwork: privateNetwork, syncDaemon: syncDaemon)
        if siteCount > 0 {
            try Self.siteList((1...siteCount).map { "10.0.2.\($0)" })
                .write(toFile: "\(directory)/sites.list", atomically: true, encoding: .utf8)
            text = "mark_rules = iptables-legacy\n" + text + Self.sitesVirtual
        }
        try text.write(toFile: "\(directory)/lvs.cf", atomically: true, encoding: .utf8)
        let check = try shell("\(director.path) check-config --config \(directory)/lvs.cf")
        guard check.status == 0 else {
            _ = try? shell("rm -rf \(directory)")
            XCTFail("the test's lvs.cf is rejected: \(check.output)")
            throw CancellationError()
        }
        var up = try shell(topology("topology_up 2 \(privateNetwork ? "private" : "")"))
        if up.status == 0, siteCount > 0 {
            up = try shell(
                "ip -n web1 addr add 10.0.2.0/24 dev lo && ip -n web2 addr add 10.0.2.0/24 dev lo "
                    + "&& ip -n client route add 10.0.2.0/24 dev eth0")
        }
        guard up.status == 0 else {
            tearDown()
            XCTFail("topology_up failed: \(up.output)")
            throw CancellationError()
        }
    }

    /// Heartbeat every second, dead after three (lvs.cf takes whole seconds).
    static let keepalive = 1
    static let deadtime = 3

    static func configuration(directory: String, privateNetwork: Bool, syncDaemon: Bool) -> String {
        """
        serial_no = 1
        primary = 10.0.0.11
        service = lvs
        backup_active = 1
        backup = 10.0.0.12
        \(privateNetwork ? "primary_private = 192.168.100.11\nbackup_private = 192.168.100.12\n" : "")\
        heartbeat = 1
        heartbeat_port = 539
        keepalive = \(keepalive)
        deadtime = \(deadtime)
        heartbeat_key = \(directory)/heartbeat.key
        network = direct
        \(syncDaemon ? "syncdaemon = 1\nsyncd_iface = eth0\nsyncd_id = 7\n" : "")\
        virtual web {
            active = 1
            address = \(vip) eth0:1
            vip_nmask = 255.255.255.255
            port = 80
            send = "GET / HTTP/1.0\\r\\n\\r\\n"
            expect = "HTTP"
            scheduler = lblc
            protocol = tcp
            timeout = 1
            reentry = 0
            server web1 {
                address = 10.0.0.21
                active = 1
                weight = 1
            }
            server web2 {
                address = 10.0.0.22
                active = 1
                weight = 1
            }
        }

        """
    }


    /// The virtual of the site addresses: one IPVS service on fwmark 100, direct routing to web1 and web2.
    static let sitesVirtual = """
        virtual sites {
            active = 1
            fwmark = 100
            port = 80
            site_device = eth0
            site_addresses = sites.list
            send = "GET / HTTP/1.0\\r\\n\\r\\n"
            expect = "HTTP"
            scheduler = wrr
            timeout = 1
            reentry = 0
            server web1 {
                address = 10.0.0.21
                active = 1
                weight = 1
            }
            server web2 {
                address = 10.0.0.22
                active = 1
                weight = 1
            }
        }

        """

    /// sites.list's text: a comment, then one address a line, as a provisioning script writes it.
    static func siteList(_ addresses: [String]) -> String {
        "# site addresses of the web cluster (fwmark 100)\n" + addresses.joined(separator: "\n") + "\n"
    }

    /// The site addresses (10.0.2.x) on director `name`'s eth0.
    func siteAddresses(_ name: String) throws -> Set<String> {
        Set(
            try mustRun("ip -n \(name) -4 -o addr show dev eth0").split(separator: "\n").compactMap { line in
                line.split(separator: " ").first { $0.hasPrefix("10.0.2.") }.map { String($0.split(separator: "/")[0]) }
            })
    }

    /// The addresses director `name`'s iptables-legacy marks with 100 (chain H2E-MARKS; empty without the chain).
    func markedAddresses(_ name: String) throws -> Set<String> {
        let rules = try shell("ip netns exec \(name) iptables-legacy -w -t mangle -S H2E-MARKS 2>/dev/null").output
        return Set(
            rules.split(separator: "\n").filter { $0.contains("--set-xmark 0x64/") }.compactMap { rule in
                rule.split(separator: " ").drop { $0 != "-d" }.dropFirst().first.map { String($0.split(separator: "/")[0]) }
            })
    }

    /// Whether PREROUTING of `name` jumps to h2e's chain.
    func jumpsToMarks(_ name: String) throws -> Bool {
        try shell("ip netns exec \(name) iptables-legacy -w -t mangle -S PREROUTING").output.contains("-j H2E-MARKS")
    }

    /// One request from the client to `address`; the body (the real server's name) or nil.
    func fetch(address: String, timeout: Double = 1) throws -> String? {
        let result = try shell("ip netns exec client curl -sf -m \(timeout) http://\(address)/")
        return result.status == 0 ? result.output.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }

    /// The MAC the client's neighbour table has for `address` ("" if none).
    func clientNeighbourMAC(for address: String) throws -> String {
        try mustRun("ip -n client neigh show \(address) dev eth0").split(separator: " ")
            .drop { $0 != "lladdr" }.dropFirst().first.map(String.init) ?? ""
    }

    /// The command, run after sourcing scripts/lib/topology.sh.
    func topology(_ command: String) -> String {
        ". \(repositoryRoot)/scripts/lib/topology.sh\n\(command)"
    }

    func tearDown() {
        _ = try? shell(topology("topology_down; rm -rf \(directory)"))
    }

    // MARK: Directors

    /// Starts `h2e-director run` in namespace `name`, its output appended to DIR/NAME.log.
    func start(_ name: String) throws {
        try mustRun(
            "mkdir -p \(directory)/\(name).state && (ip netns exec \(name) \(director.path) run --config \(directory)/lvs.cf "
                + "--socket \(directory)/\(name).sock --state-dir \(directory)/\(name).state "
                + "</dev/null >>\(directory)/\(name).log 2>&1 &)")
    }

    /// The pids of the processes in namespace `name` (the director, and whatever it runs).
    func pids(_ name: String) throws -> [String] {
        try mustRun("ip netns pids \(name)").split(whereSeparator: \.isWhitespace).map(String.init)
    }

    /// kill -9 of everything running in director namespace `name`; its VIP stays in its kernel, as after a crash.
    func kill(_ name: String) throws {
        let pids = try pids(name)
        XCTAssertFalse(pids.isEmpty, "no director runs in \(name)")
        try mustRun("kill -9 \(pids.joined(separator: " "))")
    }

    func log(_ name: String) -> String {
        (try? String(contentsOfFile: "\(directory)/\(name).log", encoding: .utf8)) ?? "(no log)"
    }

    /// Both directors' logs, for failure messages.
    var logs: String {
        Self.directors.map { "--- \($0).log:\n\(log($0).suffix(3000))" }.joined(separator: "\n")
    }

    // MARK: Observations

    /// The directors whose interfaces hold the VIP.
    func vipHolders() throws -> [String] {
        try mustRun(topology("topology_vip_holders")).split(separator: "\n").map(String.init)
    }

    func mac(_ name: String, interface: String = "eth0") throws -> String {
        try mustRun(topology("topology_mac \(name) \(interface)")).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The MAC the client's neighbour table has for the VIP ("" if none).
    func clientNeighbourMAC() throws -> String {
        try mustRun(topology("topology_client_neigh_mac")).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// One request from the client through the VIP; the body (the real server's name) or nil.
    func fetch(path: String = "/", timeout: Double = 1) throws -> String? {
        let result = try shell(topology("topology_fetch \(path) \(timeout)"))
        return result.status == 0 ? result.output.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }

    /// Cuts (`false`) or restores one link: the bridge port of `name`'s interface, as a pulled cable.
    func setCable(_ name: String, interface: String, up: Bool) throws {
        try mustRun(topology("topology_link sw \(name)\(interface.dropFirst(3)) \(up ? "up" : "down")"))
    }

    /// `h2e-director status --json` of the director in namespace `name`: its `director` object.
    func status(_ name: String) throws -> [String: Any] {
        let json = try mustRun("\(director.path) status --json --socket \(directory)/\(name).sock")
        guard let report = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let director = report["director"] as? [String: Any]
        else {
            XCTFail("status --json of \(name) has no director object: \(json)")
            throw CancellationError()
        }
        return director
    }

    /// Whether the director in `name` answers `status` (no test failure when it does not, yet).
    func answers(_ name: String) -> Bool {
        (try? shell("\(director.path) status --json --socket \(directory)/\(name).sock").status) == 0
    }

    /// The role `status` reports (`active`, `backup`, ...).
    func role(_ name: String) throws -> String { try status(name)["role"] as? String ?? "(none)" }

    /// The heartbeat datagrams the director in `name` has rejected.
    func heartbeatRejects(_ name: String) throws -> Int { try status(name)["heartbeatRejects"] as? Int ?? -1 }

    /// The heartbeat datagrams rejected by `name`, by reason (`badMAC`, `wrongVersion`, ...).
    func heartbeatRejectsByReason(_ name: String) throws -> [String: Int] {
        try status(name)["heartbeatRejectsByReason"] as? [String: Int] ?? [:]
    }

    /// The heartbeats `name` accepted as proof that its peer is alive.
    func heartbeatsAccepted(_ name: String) throws -> Int { try status(name)["heartbeatsAccepted"] as? Int ?? -1 }

    func failovers(_ name: String) throws -> Int { try status(name)["failovers"] as? Int ?? -1 }

    /// The size of `name`'s log, in bytes.
    func logSize(_ name: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: "\(directory)/\(name).log"))?[.size] as? Int) ?? 0
    }

    // MARK: Attacker

    /// Runs h2e-heartbeat-tool (flood, capture, replay: see its main.swift) in namespace `name`; its output.
    @discardableResult
    func heartbeatTool(in name: String, _ arguments: String) throws -> String {
        let tool = productsDirectory.appendingPathComponent("h2e-heartbeat-tool").path
        guard FileManager.default.isExecutableFile(atPath: tool) else {
            throw unavailable("\(tool) is not built: swift build --build-tests builds it")
        }
        return try mustRun("ip netns exec \(name) \(tool) \(arguments)")
    }

    /// Starts h2e-heartbeat-tool in the background; its output goes to DIR/FILE.
    func startHeartbeatTool(in name: String, _ arguments: String, output file: String) throws {
        let tool = productsDirectory.appendingPathComponent("h2e-heartbeat-tool").path
        try mustRun("(ip netns exec \(name) \(tool) \(arguments) </dev/null >\(directory)/\(file) 2>&1 &)")
    }

    /// The IPVS connection table of a director namespace (`ipvsadm -Lnc`).
    func connections(_ name: String) throws -> String {
        try mustRun("ip netns exec \(name) ipvsadm -Lnc")
    }

    /// An observation for a failure message: its value, or the error that prevented it.
    func observed(_ observe: (FailoverCluster) throws -> some Any) -> String {
        do { return "\(try observe(self))" } catch { return "(\(error))" }
    }

    /// Waits until lb1 alone holds the VIP, the client is served through it, and lb2 runs as its backup.
    func waitForPrimaryActive(file: StaticString = #filePath, line: UInt = #line) async throws {
        let ready = try await waitUntil(timeout: .seconds(30), interval: .milliseconds(200)) {
            try vipHolders() == ["lb1"] && fetch() != nil && clientNeighbourMAC() == mac("lb1")
        }
        guard ready else {
            XCTFail("lb1 did not become active (VIP on \(observed { try $0.vipHolders() }))\n\(logs)", file: file, line: line)
            throw CancellationError()
        }
        // The backup must be past its start-up (it has heard the primary) before a test breaks something.
        try await Task.sleep(for: .seconds(Self.keepalive * 2))
        XCTAssertEqual(try vipHolders(), ["lb1"], "lb2 took the VIP from a healthy primary\n\(logs)", file: file, line: line)
    }

    /// Checks `condition` every 200 ms for `duration`; false as soon as it does not hold.
    func holds(for duration: Duration, _ condition: () throws -> Bool) async throws -> Bool {
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            guard try condition() else { return false }
            try await Task.sleep(for: .milliseconds(200))
        }
        return try condition()
    }
}

/// A kernel test that builds one ``FailoverCluster`` per test: the guest must have IPVS, and the cluster's
/// namespaces go when the test ends, whatever happened.
class FailoverClusterTestCase: XCTestCase {
    var cluster: FailoverCluster?

    override func setUp() async throws {
        try requireIPVSKernel()
    }

    override func tearDown() async throws {
        cluster?.tearDown()
        cluster = nil
    }
}
