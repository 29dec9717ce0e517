import Foundation
import XCTest

/// End-to-end failover of two `h2e-director run`s in the topology of scripts/lib/topology.sh: real IPVS (direct
/// routing) in each director's namespace, busybox httpd real servers, curl and python3 as the client and the attacker.
final class FailoverKernelTests: XCTestCase {
    private var cluster: FailoverCluster?

    override func setUp() async throws {
        try requireIPVSKernel()
    }

    override func tearDown() async throws {
        cluster?.tearDown()
        cluster = nil
    }

    private func startCluster(privateNetwork: Bool = false, syncDaemon: Bool = false) async throws -> FailoverCluster {
        let cluster = try FailoverCluster(privateNetwork: privateNetwork, syncDaemon: syncDaemon)
        self.cluster = cluster
        try cluster.start("lb1")
        try cluster.start("lb2")
        try await cluster.waitForPrimaryActive()
        return cluster
    }

    private var deadtime: Duration { .seconds(FailoverCluster.deadtime) }

    /// kill -9 of the active director: the backup takes the VIP, its gratuitous ARP moves the client's neighbour entry
    /// to its MAC, and the client's requests go through the backup's IPVS.
    func testKillingTheActiveDirectorMovesTheVIPAndTheClientsToTheBackup() async throws {
        let cluster = try await startCluster()
        let backupMAC = try cluster.mac("lb2")
        XCTAssertEqual(try cluster.connections("lb2").components(separatedBy: "10.0.0.100:").count - 1, 0)

        try cluster.kill("lb1")

        let tookOver = try await waitUntil(timeout: deadtime * 4, interval: .milliseconds(100)) {
            try cluster.vipHolders().contains("lb2")
        }
        XCTAssertTrue(tookOver, "lb2 did not take the VIP within \(deadtime * 4)\n\(cluster.logs)")
        let moved = try await waitUntil(timeout: .seconds(5)) { try cluster.clientNeighbourMAC() == backupMAC }
        XCTAssertTrue(moved, "the client's neighbour entry for the VIP is \(cluster.observed { try $0.clientNeighbourMAC() }), not lb2's \(backupMAC)")
        let served = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(100)) {
            try cluster.fetch(timeout: 0.5).map { $0.hasPrefix("web") } ?? false
        }
        XCTAssertTrue(served, "no request through the VIP succeeded after the takeover\n\(cluster.logs)")
        XCTAssertTrue(
            try cluster.connections("lb2").contains("10.0.0.100:"),
            "the client's request did not go through lb2's IPVS: \(cluster.observed { try $0.connections("lb2") })")
    }

    /// With `syncdaemon = 1` the directors run the IPVS sync daemon (master on the active, backup on the other), so a
    /// connection opened before the failover is in the backup's table and goes on after it: a slow 4 MiB download
    /// started through lb1 completes through lb2 after lb1 dies (kill -9 and its cable cut, so only lb2 can carry it).
    func testConnectionOpenedBeforeTheFailoverContinuesWithTheSyncDaemon() async throws {
        let cluster = try await startCluster(syncDaemon: true)
        let daemons = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(200)) {
            try shell("ip netns exec lb1 ipvsadm -Ln --daemon").output.contains("master sync daemon")
                && shell("ip netns exec lb2 ipvsadm -Ln --daemon").output.contains("backup sync daemon")
        }
        XCTAssertTrue(
            daemons,
            "sync daemons: lb1: \(cluster.observed { _ in try shell("ip netns exec lb1 ipvsadm -Ln --daemon").output }) lb2: "
                + "\(cluster.observed { _ in try shell("ip netns exec lb2 ipvsadm -Ln --daemon").output })\n\(cluster.logs)")
        guard daemons else { return }

        let directory = cluster.directory
        try mustRun("""
            (ip netns exec client curl -s --limit-rate 400k -o \(directory)/download -w '%{http_code} %{size_download}' \
              http://\(FailoverCluster.vip)/big > \(directory)/curl.out 2>&1; echo $? > \(directory)/curl.rc) </dev/null >/dev/null 2>&1 &
            """)
        let synced = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(200)) {
            try cluster.connections("lb2").contains("ESTABLISHED")
        }
        XCTAssertTrue(synced, "the download's connection never reached lb2's table: \(cluster.observed { try $0.connections("lb2") })")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/curl.rc"), "the download ended before the failover")

        try cluster.setCable("lb1", interface: "eth0", up: false)
        try cluster.kill("lb1")

        let finished = try await waitUntil(timeout: .seconds(60), interval: .milliseconds(500)) {
            FileManager.default.fileExists(atPath: "\(directory)/curl.rc")
        }
        XCTAssertTrue(finished, "the download did not finish within 60 s of the failover")
        let rc = try String(contentsOfFile: "\(directory)/curl.rc", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let out = (try? String(contentsOfFile: "\(directory)/curl.out", encoding: .utf8)) ?? ""
        XCTAssertEqual(rc, "0", "curl: \(out)\n\(cluster.logs)")
        XCTAssertEqual(out, "200 4194304")
        XCTAssertTrue(try cluster.vipHolders().contains("lb2"), "lb2 does not hold the VIP\n\(cluster.logs)")
    }

    /// A heartbeat forged without the key (a wrong key, and no MAC at all) that claims the primary is stopping, sent
    /// from the primary's own address to the backup, changes nothing: the backup does not take over.
    func testForgedHeartbeatChangesNothing() async throws {
        let cluster = try await startCluster()
        let forged = try mustRun("ip netns exec lb1 python3 - <<'EOF'\n\(Self.heartbeatTool)\nforge()\nEOF")
        XCTAssertTrue(forged.contains("sent"), forged)
        let steady = try await cluster.holds(for: deadtime * 2) { try cluster.vipHolders() == ["lb1"] }
        XCTAssertTrue(steady, "a forged heartbeat moved the VIP: now on \(cluster.observed { try $0.vipHolders() })\n\(cluster.logs)")
        XCTAssertNotNil(try cluster.fetch())
    }

    /// Heartbeats of the primary captured on the wire and replayed from its address after it died do not make the
    /// backup, which took over, believe the primary is back: it keeps the VIP.
    func testReplayedHeartbeatsChangeNothing() async throws {
        let cluster = try await startCluster()
        let captured = try mustRun("ip netns exec lb2 python3 - <<'EOF'\n\(Self.heartbeatTool)\ncapture('\(cluster.directory)/captured', 3)\nEOF")
        XCTAssertTrue(captured.contains("captured"), captured)
        let count = Int(captured.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? "") ?? 0
        XCTAssertGreaterThan(count, 0, "no heartbeat of lb1 seen on lb2's link: \(captured)")

        try cluster.kill("lb1")
        let tookOver = try await waitUntil(timeout: deadtime * 4, interval: .milliseconds(100)) {
            try cluster.vipHolders().contains("lb2")
        }
        XCTAssertTrue(tookOver, "lb2 did not take over\n\(cluster.logs)")

        try mustRun("""
            (ip netns exec lb1 python3 - <<'EOF'
            \(Self.heartbeatTool)
            replay('\(cluster.directory)/captured', \(FailoverCluster.deadtime * 2))
            EOF
            ) </dev/null >\(cluster.directory)/replay.out 2>&1 &
            """)
        let kept = try await cluster.holds(for: deadtime * 2) { try cluster.vipHolders().contains("lb2") }
        XCTAssertTrue(kept, "replayed heartbeats moved the VIP off lb2: now on \(cluster.observed { try $0.vipHolders() })\n\(cluster.logs)")
        let replayed = try await waitUntil(timeout: .seconds(10)) {
            ((try? String(contentsOfFile: "\(cluster.directory)/replay.out", encoding: .utf8)) ?? "").contains("replayed")
        }
        XCTAssertTrue(replayed, "the replay did not run: \((try? String(contentsOfFile: "\(cluster.directory)/replay.out", encoding: .utf8)) ?? "")")
    }

    /// With a private heartbeat network, losing either one of the two links is not the peer's death: no takeover.
    func testCuttingOneOfTwoHeartbeatLinksCausesNoTakeover() async throws {
        let cluster = try await startCluster(privateNetwork: true)
        for interface in ["eth1", "eth0"] {
            try cluster.setCable("lb1", interface: interface, up: false)
            let steady = try await cluster.holds(for: deadtime * 2) { try cluster.vipHolders() == ["lb1"] }
            XCTAssertTrue(steady, "cutting lb1's \(interface) moved the VIP: now on \(cluster.observed { try $0.vipHolders() })\n\(cluster.logs)")
            try cluster.setCable("lb1", interface: interface, up: true)
            // A cut public link fails lb1's health checks (timeout 1 s): with reentry = 0 the servers come back at the
            // next good check.
            let served = try await waitUntil(timeout: .seconds(15), interval: .milliseconds(200)) { try cluster.fetch() != nil }
            XCTAssertTrue(served, "no request served through lb1 after its \(interface) came back\n\(cluster.logs)")
        }
    }

    /// Both links cut: each director believes the other dead and both hold the VIP (split brain). Once the links are
    /// back, exactly one director is active, the client's neighbour entry is its MAC, and requests are served.
    func testHealedSplitBrainLeavesExactlyOneActiveDirector() async throws {
        let cluster = try await startCluster(privateNetwork: true)
        for interface in ["eth0", "eth1"] { try cluster.setCable("lb2", interface: interface, up: false) }
        let split = try await waitUntil(timeout: deadtime * 4, interval: .milliseconds(200)) {
            try cluster.vipHolders() == ["lb1", "lb2"]
        }
        XCTAssertTrue(split, "lb2 did not go active while cut off (VIP on \(cluster.observed { try $0.vipHolders() }))\n\(cluster.logs)")

        for interface in ["eth0", "eth1"] { try cluster.setCable("lb2", interface: interface, up: true) }
        let healed = try await waitUntil(timeout: deadtime * 4, interval: .milliseconds(200)) {
            try cluster.vipHolders().count == 1
        }
        XCTAssertTrue(healed, "still VIP on \(cluster.observed { try $0.vipHolders() }) after the links came back\n\(cluster.logs)")
        let holders = try cluster.vipHolders()
        let stable = try await cluster.holds(for: deadtime * 2) { try cluster.vipHolders() == holders }
        XCTAssertTrue(stable, "the active director changed again: \(holders) then \(cluster.observed { try $0.vipHolders() })\n\(cluster.logs)")
        guard let active = holders.first else { return }
        let served = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(200)) {
            try cluster.clientNeighbourMAC() == cluster.mac(active) && cluster.fetch(timeout: 0.5) != nil
        }
        XCTAssertTrue(served, "client's neighbour entry \(cluster.observed { try $0.clientNeighbourMAC() }), \(active)'s MAC \(cluster.observed { try $0.mac(active) })")
    }

    /// python3 functions: forge() sends forged "primary stopping" heartbeats from lb1's address to lb2;
    /// capture(file, seconds) records lb1's heartbeats seen on this namespace's eth0 (AF_PACKET);
    /// replay(file, seconds) sends the recorded datagrams again from lb1's address and port, every 0.2 s.
    static let heartbeatTool = #"""
        import hmac, hashlib, os, socket, struct, time
        PORT = 539
        LB1, LB2 = "10.0.0.11", "10.0.0.12"

        def sender(port=PORT):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((LB1, port))
            except OSError:
                s.bind((LB1, 0))
            return s

        def forge():
            sender_id = struct.unpack("!I", socket.inet_aton(LB1))[0]
            boot = int.from_bytes(os.urandom(8), "big")
            s = sender()
            for seq in range(1, 6):
                # magic, version 1, state 3 (stopping), flags 1 (primary), link 0, sender id, sequence, boot, time
                body = b"H2EB" + bytes([1, 3, 1, 0]) + struct.pack("!QQQQ", sender_id, seq, boot, time.time_ns())
                wrong = hmac.new(os.urandom(32), body, hashlib.sha256).digest()
                for mac in (wrong, bytes(32)):
                    s.sendto(body + mac, (LB2, PORT))
                time.sleep(0.1)
            print("sent 10 forged heartbeats")

        def capture(path, seconds):
            r = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
            r.bind(("eth0", 0))
            r.settimeout(0.2)
            seen = []
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                try:
                    frame = r.recv(2048)
                except socket.timeout:
                    continue
                ip = frame[14:]
                header = (ip[0] & 15) * 4
                if ip[9] != 17 or socket.inet_ntoa(ip[12:16]) != LB1:
                    continue
                udp = ip[header:]
                if struct.unpack("!H", udp[2:4])[0] == PORT and len(udp) - 8 == 72:
                    seen.append(udp[8:].hex())
            with open(path, "w") as f:
                f.write("\n".join(seen))
            print("captured", len(seen))

        def replay(path, seconds):
            datagrams = [bytes.fromhex(line) for line in open(path).read().split()]
            s = sender()
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                for d in datagrams:
                    s.sendto(d, (LB2, PORT))
                time.sleep(0.2)
            print("replayed", len(datagrams))
        """#
}
