import Foundation
import TestSupport
import XCTest

/// `h2e-director apply` and `run` against the real kernel's IPVS, cross-checked with ipvsadm. Each test works in a
/// fresh network namespace (IPVS tables are per namespace) with a veth pair for the VIP.
final class DirectorKernelTests: XCTestCase {
    var namespace = ""
    var directory = ""
    var daemon: Process?

    var binary: String { productsDirectory.appendingPathComponent("h2e-director").path }

    override func setUp() async throws {
        try requireIPVSKernel()
        let id = String(UUID().uuidString.prefix(8)).lowercased()
        namespace = "h2ek\(id)"
        directory = "/tmp/h2e-kernel-\(id)"
        try FileManager.default.createDirectory(atPath: directory + "/marks", withIntermediateDirectories: true)
        try mustRun(
            "ip netns add \(namespace) && ip -n \(namespace) link set lo up && ip -n \(namespace) link add vip0 type veth peer name vip0p && ip -n \(namespace) link set vip0 up && ip -n \(namespace) link set vip0p up")
    }

    override func tearDown() async throws {
        if let daemon, daemon.isRunning {
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
        }
        _ = try? shell("ip netns del \(namespace)")
        try? FileManager.default.removeItem(atPath: directory)
    }

    func configuration(web2Weight: Int = 16, hardShutdown: Int = 1) -> String {
        """
        network = direct
        hard_shutdown = \(hardShutdown)
        virtual web {
            active = 1
            address = 10.0.0.10 vip0:1
            port = 80
            send_program = "/usr/bin/test ! -e \(directory)/marks/down-%h"
            check_interval = 1
            timeout = 2
            reentry = 0
            server web1 {
                active = 1
                address = 10.0.1.2
                weight = 32
            }
            server web2 {
                active = 1
                address = 10.0.1.3
                weight = \(web2Weight)
            }
        }
        virtual marked {
            active = 1
            address = 10.0.0.11 vip0:2
            fwmark = 100
            persistent = 300
            send_program = "/bin/true"
            server m1 {
                active = 1
                address = 10.0.1.5
                weight = 10
            }
        }

        """
    }

    func write(_ text: String) throws -> String {
        let path = directory + "/lvs.cf"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The whitespace-separated fields of the listing line of `server`.
    func row(_ listing: String, _ server: String) -> [String] {
        listing.split(separator: "\n").first { $0.contains(" \(server) ") }?.split(separator: " ").map(String.init) ?? []
    }

    func inNamespace(_ command: String) throws -> (status: Int32, output: String) {
        try shell("ip netns exec \(namespace) \(command)")
    }

    func testApplyDryRunThenApplyThenNoChangesThenAWeightEdit() async throws {
        let config = try write(configuration())
        let dry = try inNamespace("\(binary) apply --dry-run --config \(config)")
        XCTAssertEqual(dry.status, 0, dry.output)
        XCTAssertEqual(dry.output, """
            add service TCP 10.0.0.10:80 lblc
            add server 10.0.1.2:80 to TCP 10.0.0.10:80 route weight 32
            add server 10.0.1.3:80 to TCP 10.0.0.10:80 route weight 16
            add service FWM 100 lblc persistent 300
            add server 10.0.1.5:0 to FWM 100 route weight 10

            """)
        XCTAssertEqual(try inNamespace("ipvsadm -Ln").output.contains("10.0.0.10"), false, "dry run touches nothing")

        let applied = try inNamespace("\(binary) apply --config \(config)")
        XCTAssertEqual(applied.output, dry.output)
        let listing = try inNamespace("ipvsadm -Ln").output
        XCTAssertTrue(listing.contains("TCP  10.0.0.10:80 lblc\n  -> 10.0.1.2:80"), listing)
        XCTAssertEqual(row(listing, "10.0.1.3:80"), ["->", "10.0.1.3:80", "Route", "16", "0", "0"], listing)
        XCTAssertTrue(listing.contains("FWM  100 lblc persistent 300"), listing)

        XCTAssertEqual(try inNamespace("\(binary) apply --config \(config)").output, "no changes\n")

        _ = try write(configuration(web2Weight: 40))
        let edit = try inNamespace("\(binary) apply --config \(config)")
        XCTAssertEqual(edit.output, "set weight 16 -> 40 for 10.0.1.3:80 in TCP 10.0.0.10:80\n")
        XCTAssertEqual(row(try inNamespace("ipvsadm -Ln").output, "10.0.1.3:80"), ["->", "10.0.1.3:80", "Route", "40", "0", "0"])
    }

    func testRunAdoptsTheTableFollowsHealthAndClearsOnHardShutdown() async throws {
        let config = try write(configuration())
        // A table left by an earlier run, with web1 already in: adopted, not flushed.
        try mustRun("ip netns exec \(namespace) sh -c 'ipvsadm -A -t 10.0.0.10:80 -s lblc && ipvsadm -a -t 10.0.0.10:80 -r 10.0.1.2:80 -g -w 32'")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        let port = Int.random(in: 20000...40000)
        process.arguments = [
            "netns", "exec", namespace, binary, "run", "--config", config, "--socket", directory + "/sock", "--state-dir",
            directory + "/state", "--metrics", "127.0.0.1:\(port)",
        ]
        let logPath = directory + "/log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = log
        process.standardOutput = log
        try process.run()
        daemon = process
        let logText = { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

        let programmed = await waitUntil(timeout: .seconds(15)) {
            (try? self.inNamespace("ipvsadm -Ln"))?.output.contains("FWM  100 lblc persistent 300\n  -> 10.0.1.5:0") == true
        }
        XCTAssertTrue(programmed, logText())
        XCTAssertFalse(logText().contains("add server 10.0.1.2:80"), "web1 was adopted: \(logText())")
        XCTAssertTrue(logText().contains("ipvs: add server 10.0.1.3:80 to TCP 10.0.0.10:80 route weight 16"), logText())

        // ipvsadm shows the FWM service as soon as it exists; its destination follows a moment later.
        var metrics = ""
        let complete = await waitUntil(timeout: .seconds(5)) {
            metrics = (try? self.inNamespace("curl -sS http://127.0.0.1:\(port)/metrics").output) ?? ""
            return metrics.contains(#"h2e_ipvs_destination_connections_total{server="10.0.1.5:0",service="FWM 100"} 0"#)
        }
        XCTAssertTrue(complete, metrics)
        XCTAssertTrue(metrics.contains(#"h2e_ipvs_destination_weight{server="10.0.1.2:80",service="TCP 10.0.0.10:80"} 32"#), metrics)
        XCTAssertTrue(metrics.contains("\nh2e_netlink_errors_total 0\n"), metrics)

        try "".write(toFile: directory + "/marks/down-10.0.1.3", atomically: true, encoding: .utf8)
        let removed = await waitUntil(timeout: .seconds(10)) {
            (try? self.inNamespace("ipvsadm -Ln"))?.output.contains("10.0.1.3:80") == false
        }
        XCTAssertTrue(removed, "a failing server leaves the kernel table: \(logText())")
        var listings: (String, String) = ("", "")
        let agree = await waitUntil(timeout: .seconds(5)) {
            listings = ((try? self.inNamespace("\(self.binary) list").output) ?? "", (try? self.inNamespace("ipvsadm -Ln").output) ?? "")
            return listings.0 == listings.1
        }
        XCTAssertTrue(agree, "h2e-director list equals ipvsadm -Ln:\n\(listings.0)\n\(listings.1)")

        kill(process.processIdentifier, SIGTERM)
        let ended = await waitUntil(timeout: .seconds(15)) { !process.isRunning }
        XCTAssertTrue(ended)
        XCTAssertEqual(process.terminationStatus, 0, logText())
        let after = try inNamespace("ipvsadm -Ln").output
        XCTAssertFalse(after.contains("10.0.0.10"), "hard_shutdown = 1 removed the services: \(after)")
        XCTAssertFalse(after.contains("FWM"), after)
    }
}
