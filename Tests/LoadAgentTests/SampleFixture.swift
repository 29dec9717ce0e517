import Logging
import XCTest
@testable import LoadAgent

/// Records the cron job's sample into `directory` at `time` from a fake /proc of its own: load average `loadavg`,
/// 2 CPUs at 0.4 utilisation, 3 established connections to port 80 or 443.
func recordSample(into directory: TemporaryDirectory, at time: Int, loadavg: String = ProcFixtures.loadavg) throws {
    let proc = try TemporaryDirectory()
    try proc.write("loadavg", loadavg)
    try proc.write("stat", ProcFixtures.statLater)
    try proc.write("meminfo", ProcFixtures.meminfo)
    try proc.write("net/tcp", ProcFixtures.tcp)
    try directory.write("cpu.state", try CPUTimes.parse(ProcFixtures.stat).stateLine)
    let sampler = Sampler(
        configuration: .init(directory: directory.path, procRoot: proc.path, servicePorts: [80, 443]),
        logger: Logger(label: "test"))
    guard case .recorded = try sampler.run(now: { time }) else { return XCTFail("sample at \(time) not recorded") }
}
