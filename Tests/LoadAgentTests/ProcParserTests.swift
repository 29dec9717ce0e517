import XCTest
@testable import LoadAgent

final class ProcParserTests: XCTestCase {
    func testLoadAverage() throws {
        XCTAssertEqual(try LoadAverage.parse(ProcFixtures.loadavg), LoadAverage(one: 0.84, five: 0.52, fifteen: 0.31))
        XCTAssertThrowsError(try LoadAverage.parse("0.84 0.52\n"))
        XCTAssertThrowsError(try LoadAverage.parse("0.84 nan 0.31 1/2 3\n"))
        XCTAssertThrowsError(try LoadAverage.parse(""))
    }

    func testCPUTimesAndCount() throws {
        let times = try CPUTimes.parse(ProcFixtures.stat)
        // user+nice+system+idle+iowait+irq+softirq+steal; guest is inside user already.
        XCTAssertEqual(times.total, 1000 + 10 + 300 + 8000 + 200 + 5 + 15 + 0)
        XCTAssertEqual(times.idle, 8200)
        XCTAssertEqual(times.cpuCount, 2)
        XCTAssertThrowsError(try CPUTimes.parse("intr 1 2 3\n"))
        XCTAssertThrowsError(try CPUTimes.parse("cpu  1 2 3 4\n"), "no cpuN lines")
    }

    func testCPUUtilisationFromDeltas() throws {
        let earlier = try CPUTimes.parse(ProcFixtures.stat)
        let later = try CPUTimes.parse(ProcFixtures.statLater)
        XCTAssertEqual(try XCTUnwrap(later.utilisation(since: earlier)), 0.4, accuracy: 1e-12)
        XCTAssertNil(earlier.utilisation(since: later), "counters going backwards (a reboot) give no figure")
        XCTAssertNil(earlier.utilisation(since: earlier), "no time passed")
    }

    func testCPUStateLineRoundTrip() throws {
        let times = try CPUTimes.parse(ProcFixtures.stat)
        XCTAssertEqual(CPUTimes(stateLine: times.stateLine), times)
        XCTAssertNil(CPUTimes(stateLine: "garbage\n"))
    }

    func testMemory() throws {
        let memory = try MemoryInfo.parse(ProcFixtures.meminfo)
        XCTAssertEqual(memory.total, 8_021_268 * 1024)
        XCTAssertEqual(memory.available, 6_021_268 * 1024)
        XCTAssertEqual(memory.used, 2_000_000 * 1024)
        let old = try MemoryInfo.parse(ProcFixtures.meminfoOld)
        XCTAssertEqual(old.available, (1_000_000 + 100_000 + 900_000) * 1024, "without MemAvailable: free+buffers+cached")
        XCTAssertThrowsError(try MemoryInfo.parse("MemFree: 1 kB\n"))
    }

    func testEstablishedConnectionsToServicePorts() throws {
        // Only ESTABLISHED with local port 80 or 443: lines 1, 2, 3 (line 6 is the client side, local port D2F0).
        XCTAssertEqual(try TCPTable.countEstablished(ProcFixtures.tcp, localPorts: [80, 443]), 3)
        XCTAssertEqual(try TCPTable.countEstablished(ProcFixtures.tcp, localPorts: [80]), 2)
        XCTAssertEqual(try TCPTable.countEstablished(ProcFixtures.tcp, localPorts: [22]), 1)
        XCTAssertEqual(try TCPTable.countEstablished(ProcFixtures.tcp6, localPorts: [80, 443]), 2)
        XCTAssertEqual(try TCPTable.countEstablished(ProcFixtures.tcp6, localPorts: [8080]), 0)
        XCTAssertThrowsError(try TCPTable.countEstablished("  sl local\n 0: zz\n", localPorts: [80]))
        // Hex in either case, leading zeros, no header, no final newline; a port past 0xFFFF or a state that is not
        // hex is an error that names the line.
        XCTAssertEqual(try TCPTable.countEstablished(" 0: 0100007F:0050 00000000:0000 01\n 1: 0100007F:01bb 0:0 1", localPorts: [80, 443]), 2)
        XCTAssertEqual(try TCPTable.countEstablished(" 0: 0100007F:0050 00000000:0000 0A\n", localPorts: [80]), 0, "LISTEN")
        XCTAssertThrowsError(try TCPTable.countEstablished(" 0: 0100007F:10050 0:0 01\n", localPorts: [80])) { error in
            XCTAssertTrue("\(error)".contains("line 1"), "\(error)")
        }
        XCTAssertThrowsError(try TCPTable.countEstablished(" 0: 0100007F:0050 0:0 0G\n", localPorts: [80]))
        // A connection shown twice (the table changed between two reads of it) counts once; two clients count two.
        let twice = " 4: 0100007F:0050 0100007F:D2F0 01\n 5: 0100007F:0050 0100007F:D2F1 01\n 6: 0100007F:0050 0100007F:D2F0 01\n"
        XCTAssertEqual(try TCPTable.countEstablished(twice, localPorts: [80]), 2)
    }

    func testBusyWorkers() throws {
        XCTAssertEqual(try WorkerStatus.parseBusyWorkers(ProcFixtures.apacheStatus), 7)
        XCTAssertEqual(try WorkerStatus.parseBusyWorkers(ProcFixtures.nginxStatus), 5)
        XCTAssertThrowsError(try WorkerStatus.parseBusyWorkers("<html>It works!</html>"))
    }

    func testStatusPageResponseBody() throws {
        let url = "http://127.0.0.1/server-status?auto"
        XCTAssertEqual(try StatusPageClient.body(of: "HTTP/1.0 200 OK\r\nA: b\r\n\r\nBusyWorkers: 3\n", url: url), "BusyWorkers: 3\n")
        XCTAssertThrowsError(try StatusPageClient.body(of: "HTTP/1.1 404 Not Found\r\n\r\nno", url: url))
        XCTAssertThrowsError(try StatusPageClient.body(of: "SSH-2.0-OpenSSH\r\n", url: url))
    }

    func testStatusURLMustBeLoopback() throws {
        XCTAssertEqual(try StatusPageClient.parse("http://127.0.0.1/server-status?auto").port, 80)
        XCTAssertEqual(try StatusPageClient.parse("http://[::1]:8080/nginx_status").ipv6, true)
        XCTAssertEqual(try StatusPageClient.parse("http://localhost:81/s").address, "127.0.0.1")
        XCTAssertThrowsError(try StatusPageClient.parse("http://192.0.2.1/server-status"))
        XCTAssertThrowsError(try StatusPageClient.parse("https://127.0.0.1/server-status"))
        XCTAssertThrowsError(try StatusPageClient.parse("http://127.0.0.1:0/"))
    }

    func testProcSamplerReadsAnInjectedRoot() throws {
        let root = try TemporaryDirectory()
        try root.write("loadavg", ProcFixtures.loadavg)
        try root.write("stat", ProcFixtures.stat)
        try root.write("meminfo", ProcFixtures.meminfo)
        try root.write("net/tcp", ProcFixtures.tcp)
        let sampler = ProcSampler(root: root.path, servicePorts: [80, 443])
        XCTAssertEqual(try sampler.loadAverage().one, 0.84)
        XCTAssertEqual(try sampler.tcpEstablished(), 3, "a missing tcp6 (IPv6 off) counts nothing")
        try root.write("net/tcp6", ProcFixtures.tcp6)
        XCTAssertEqual(try sampler.tcpEstablished(), 5)
        XCTAssertEqual(try sampler.cpuTimes().cpuCount, 2)
        XCTAssertThrowsError(try ProcSampler(root: root.path + "/nope", servicePorts: []).loadAverage())
    }
}

/// The TCP counter on this machine's real /proc, against connections the test opens on loopback.
final class RealProcTests: XCTestCase {
    func testCountsRealEstablishedConnectionsToTheServicePort() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let port = try freeLoopbackPort()
        addr.sin_port = UInt16(port).bigEndian
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(bound, 0)
        XCTAssertEqual(listen(listener, 16), 0)
        let sampler = ProcSampler(root: "/proc", servicePorts: [UInt16(port)])
        XCTAssertEqual(try sampler.tcpEstablished(), 0, "a listening socket is not a connection")
        // The kernel completes the handshake before accept(): three established server-side sockets.
        let clients = try (0..<3).map { _ in try RawClient(port: port) }
        try waitUntil("the three connections show in /proc/net/tcp") { try sampler.tcpEstablished() == 3 }
        withExtendedLifetime(clients) {}
    }

    func testRealProcParses() throws {
        let sampler = ProcSampler(root: "/proc", servicePorts: [80])
        XCTAssertGreaterThan(try sampler.cpuTimes().cpuCount, 0)
        XCTAssertGreaterThan(try sampler.memory().total, 0)
        XCTAssertGreaterThanOrEqual(try sampler.loadAverage().one, 0)
    }
}
