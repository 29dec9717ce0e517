import HostSystem
import Logging
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The log handler of the director and the agent: lines for journald, cron's mail and terminals.
final class JournalLogHandlerTests: XCTestCase {
    func testJournalLinesCarryTheSyslogPriorityAndStayOneLine() {
        let journal = JournalLogHandler(label: "t", priorityPrefix: true)
        XCTAssertEqual(journal.format(level: .error, message: "ipvs: failed\nsecond line", metadata: ["b": "2", "a": "1"]),
            "<3>ipvs: failed | second line a=1 b=2\n")
        XCTAssertEqual(journal.format(level: .notice, message: "role active", metadata: nil), "<5>role active\n")
        XCTAssertEqual(journal.format(level: .debug, message: "x", metadata: nil), "<7>x\n")
        let terminal = JournalLogHandler(label: "t", priorityPrefix: false)
        XCTAssertEqual(terminal.format(level: .warning, message: "careful", metadata: nil), "WARNING careful\n")
    }

    func testPrioritiesAreTheSyslogSeverities() {
        let levels: [Logger.Level] = [.trace, .debug, .info, .notice, .warning, .error, .critical]
        XCTAssertEqual(levels.map(JournalLogHandler.priority), [7, 7, 6, 5, 4, 3, 2])
    }

    func testTheMessagesMetadataOverridesTheHandlersAndTheLabelIsNotWritten() {
        var handler = JournalLogHandler(label: "h2e-agent", priorityPrefix: true)
        handler[metadataKey: "port"] = "80"
        handler[metadataKey: "dir"] = "/var/lib/h2e"
        XCTAssertEqual(
            handler.format(level: .info, message: "created load.rrd", metadata: ["port": "443", "a": "1"]),
            "<6>created load.rrd a=1 dir=/var/lib/h2e port=443\n")
    }

    /// Through a Logger, as the programs log: one line on fd 2, nothing below the level.
    func testLoggerWritesOneLinePerMessageToStderr() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let saved = dup(2)
        XCTAssertEqual(dup2(fds[1], 2), 2)
        let logger = Logger(label: "t") { JournalLogHandler(label: $0, logLevel: .info, priorityPrefix: true) }
        logger.debug("not at info")
        logger.notice("role active", metadata: ["reason": "peerDead"])
        logger.error("two\nlines")
        dup2(saved, 2)
        close(saved)
        close(fds[1])
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while case let n = read(fds[0], &buffer, buffer.count), n > 0 { output += buffer[..<n] }
        close(fds[0])
        XCTAssertEqual(String(decoding: output, as: UTF8.self), "<5>role active reason=peerDead\n<3>two | lines\n")
    }
}
