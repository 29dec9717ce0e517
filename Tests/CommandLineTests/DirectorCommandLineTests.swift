import Foundation
import XCTest

/// The h2e-director binary as operators and scripts run it: exit codes, stdout and stderr.
final class DirectorCommandLineTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("h2e-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func write(_ text: String, to name: String = "lvs.cf") throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testCheckConfigAcceptsTheKnowledgeBaseExampleWithASummary() throws {
        let path = try write("""
            network = direct
            primary = 10.0.0.10
            service = lvs

            virtual Web-Cluster-v4 {
                active = 1
                address = 10.0.0.10 eth0:1
                fwmark = 100
                load_monitor = h2e
                port = 80
                protocol = tcp
                reentry = 10
                timeout = 10
                scheduler = lblc
                send = "GET / HTTP/1.0\\r\\n\\r\\n"
                expect = "HTTP"

                server web1 {
                    active = 1
                    address = 10.0.0.2
                    weight = 32
                }
                server web2 {
                    active = 1
                    address = 10.0.0.3
                    weight = 32
                }
            }
            """)
        let result = try run("check-config", "--config", path)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "\(path): 1 virtual server, 2 real servers, network direct, scheduler lblc\n")
    }

    /// KB 114327 as the field wrote it: no `address`, the site addresses brought up and marked by other means, and
    /// https on the same mark. Accepted with a warning; a dry run on this host (no IPVS) shows the first apply.
    func testTheFieldsFwmarkFarmWithoutAddressChecksAndDryRunsWithoutIPVS() throws {
        let block = { (name: String, port: Int, weight2: Int) in
            """
            virtual \(name) {
                active = 1
                fwmark = 100
                port = \(port)
                scheduler = lblc
                server web1 {
                    active = 1
                    address = 10.0.0.2
                    weight = 32
                }
                server web2 {
                    active = 1
                    address = 10.0.0.3
                    weight = \(weight2)
                }
            }

            """
        }
        let path = try write("network = direct\nservice = lvs\n" + block("Web-Cluster-v4", 80, 32) + block("https", 443, 16))
        let check = try run("check-config", "--config", path)
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertTrue(check.stderr.contains("\(path):3:1: warning: virtual 'Web-Cluster-v4' has fwmark = 100 and no address"), check.stderr)
        guard !FileManager.default.fileExists(atPath: "/proc/net/ip_vs") else {
            throw XCTSkip("this host has IPVS: the dry run would read its table (the kernel tests cover apply)")
        }
        let dry = try run("apply", "--dry-run", "--config", path)
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stderr.contains("dry run: the kernel table cannot be read here"), dry.stderr)
        XCTAssertEqual(
            dry.stdout,
            "add service FWM 100 lblc\nadd server 10.0.0.2:0 to FWM 100 route weight 32\n"
                + "add server 10.0.0.3:0 to FWM 100 route weight 16\n")
        let real = try run("apply", "--config", path)
        XCTAssertNotEqual(real.status, 0, "a real apply without IPVS fails: \(real.stdout)")
    }

    func testCheckConfigListsEveryProblemWithFileLineAndColumn() throws {
        let path = try write("""
            network = direkt
            virtual web {
                active = 1
                adress = 10.0.0.1 eth0
                port = 80
                server a {
                    address = 10.0.0.2
                    wieght = 3
                }
            """)
        let result = try run("check-config", "--config", path)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdout, "")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        XCTAssertGreaterThanOrEqual(lines.count, 3, result.stderr)
        for line in lines {
            XCTAssertTrue(line.hasPrefix("\(path):"), line)
            let position = line.dropFirst(path.count + 1).split(separator: ":").prefix(2)
            XCTAssertEqual(position.count, 2, line)
            XCTAssertTrue(position.allSatisfy { Int($0) != nil }, "line and column are numbers: \(line)")
        }
        XCTAssertTrue(result.stderr.contains("\(path):1:11:"), "the bad network value is located: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("address"), "the misspelt keyword gets a suggestion: \(result.stderr)")
    }

    func testCheckConfigOnAMissingFileSaysSo() throws {
        let result = try run("check-config", "--config", directory.appendingPathComponent("nope.cf").path)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("nope.cf"), result.stderr)
    }

    func testListWithoutIPVSNamesTheModuleToLoad() throws {
        guard !FileManager.default.fileExists(atPath: "/proc/net/ip_vs") else {
            throw XCTSkip("this kernel has IPVS; the kernel tests cover list there")
        }
        let result = try run("list")
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("modprobe ip_vs"), result.stderr)
    }

    func testListRejectsStatsWithRate() throws {
        let result = try run("list", "--stats", "--rate")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("--stats and --rate"), result.stderr)
    }

    // MARK: Running the binary

    private struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    private func run(_ arguments: String...) throws -> Result {
        let binary = productsDirectory.appendingPathComponent("h2e-director")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = directory.appendingPathComponent("stdout"), err = directory.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: try String(contentsOf: out, encoding: .utf8), stderr: try String(contentsOf: err, encoding: .utf8))
    }

    /// The build products directory: the test runner's own directory (/proc/self/exe), out of any .xctest bundle.
    private var productsDirectory: URL {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        while directory.path.contains(".xctest") { directory = directory.deletingLastPathComponent() }
        return directory
    }
}
