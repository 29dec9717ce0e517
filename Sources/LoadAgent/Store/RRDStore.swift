import CRRD
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The RRD files of one state directory, one file per ``Metric`` (`<metric>.rrd`, one GAUGE data source named
/// after the metric), read and written through librrd's thread-safe `_r` functions.
///
/// Archives (AVERAGE and MAX each): 1-minute points for a day, 5-minute for a week, hourly for a month (31 days),
/// daily for a year (366 days). The heartbeat is two steps; a missed minute is written as unknown explicitly
/// (``SampleSchedule``), so it never takes the next sample's value.
public struct RRDStore: Sendable {
    /// Seconds between samples.
    public static let step = 60
    static let archives: [(steps: Int, rows: Int)] = [(1, 1440), (5, 2016), (60, 744), (1440, 366)]

    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public func path(_ metric: Metric) -> String { "\(directory)/\(metric.fileName)" }

    /// rrd_graph_v is not reentrant (it parses its arguments with getopt's globals): graphs are drawn one at a time
    /// under this lock. The `_r` functions are thread-safe and take no lock, so a long graph never holds up the
    /// load answers directors poll.
    static let graphLock = Mutex(())

    /// Runs `body` with a clean librrd error state (librrd keeps it per thread) and returns its result and librrd's
    /// error text if `failed` says the call failed; `exclusive` for the non-reentrant calls (rrd_graph_v).
    static func call<T>(exclusive: Bool = false, _ body: () -> T, failed: (T) -> Bool) -> (T, String?) {
        guard exclusive else { return checked(body, failed: failed) }
        var outcome: (T, String?)?
        graphLock.withLock { _ in outcome = checked(body, failed: failed) }
        return outcome!
    }

    private static func checked<T>(_ body: () -> T, failed: (T) -> Bool) -> (T, String?) {
        rrd_clear_error()
        errno = 0
        let result = body()
        let code = errno
        var message: String?
        if failed(result) {
            // librrd leaves its message empty on some I/O failures (ENOSPC); errno still tells.
            let text = rrd_get_error().map { String(cString: $0) } ?? ""
            message = !text.isEmpty ? text : code != 0 ? FileIO.errnoText(code) : "unknown librrd error"
        }
        rrd_clear_error()
        return (result, message)
    }

    // MARK: create

    /// The `DS:`/`RRA:` definitions of a metric's file.
    static func definitions(for metric: Metric) -> [String] {
        let max = metric.maximum.map { formatValue($0) } ?? "U"
        var defs = ["DS:\(metric.rawValue):GAUGE:\(2 * step):0:\(max)"]
        for cf in ["AVERAGE", "MAX"] {
            for archive in archives { defs.append("RRA:\(cf):0.5:\(archive.steps):\(archive.rows)") }
        }
        return defs
    }

    /// Creates `metric`'s file, its last update at `lastUpdate`: written under a temporary name, then renamed, so a
    /// failure (disk full, ...) never leaves a half-written file under the real name.
    public func create(_ metric: Metric, lastUpdate: Int) throws(AgentError) {
        let target = path(metric)
        let temp = FileIO.temporaryName(for: target)
        unlink(temp)
        let defs = Self.definitions(for: metric)
        let (rc, message) = withCStrings(defs) { argv in
            Self.call(
                { rrd_create_r2(temp, UInt(Self.step), time_t(lastUpdate), 1, nil, nil, Int32(defs.count), argv) },
                failed: { $0 != 0 })
        }
        if let message {
            unlink(temp)
            _ = rc
            throw .rrd(operation: "create", path: target, message: explain(message))
        }
        // librrd 1.7 can report success without a file when the disk is full: check before renaming.
        var st = stat()
        guard stat(temp, &st) == 0, st.st_size > 0 else {
            unlink(temp)
            throw .rrd(operation: "create", path: target, message: "librrd wrote no file; is the disk full?")
        }
        try FileIO.rename(temp, to: target)
    }

    /// librrd's create message, with the likely cause when the file system is (nearly) full: librrd itself then
    /// reports an unrelated errno or nothing.
    func explain(_ message: String) -> String {
        var fs = statvfs()
        if statvfs(directory, &fs) == 0, UInt64(fs.f_bavail) * UInt64(fs.f_frsize) < 1 << 20 {
            return "no space left on the file system of \(directory) (librrd said: \(message)); free some space"
        }
        return "\(message); is the directory writable?"
    }

    // MARK: read

    /// Runs `body` with a path to `metric`'s file that librrd can open, nil when there is no such file. The file is
    /// opened here without following a symbolic link and must be a regular file; librrd then opens
    /// `/proc/self/fd/N`, that same file, so a link swapped in after the check cannot lead it out of the directory.
    func withVerifiedFile<T>(_ metric: Metric, _ body: (String) throws(AgentError) -> T) throws(AgentError) -> T? {
        let file = path(metric)
        let fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            let reason = errno == ELOOP ? "a symbolic link; only regular files of the state directory are read" : FileIO.errnoText()
            throw .io(operation: "open", path: file, reason: reason)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw .io(operation: "open", path: file, reason: "not a regular file; only regular files of the state directory are read")
        }
        return try body("/proc/self/fd/\(fd)")
    }

    /// The last update of `metric`'s file: its time and value (`nil`: unknown); `nil` when the file does not exist.
    public func lastUpdate(_ metric: Metric) throws(AgentError) -> (time: Int, value: Double?)? {
        try withVerifiedFile(metric) { (opened) throws(AgentError) in try lastUpdate(metric, opened: opened) }
    }

    private func lastUpdate(_ metric: Metric, opened: String) throws(AgentError) -> (time: Int, value: Double?) {
        let file = path(metric)
        var last: time_t = 0
        var count: UInt = 0
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        var values: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let (_, message) = Self.call(
            { rrd_lastupdate_r(opened, &last, &count, &names, &values) }, failed: { $0 != 0 })
        defer { Self.free(names, count); Self.free(values, count) }
        if let message { throw .corruptRRD(path: file, message: message) }
        guard count == 1, let name = names?[0], String(cString: name) == metric.rawValue, let text = values?[0] else {
            throw .corruptRRD(path: file, message: "expected one data source named \(metric.rawValue)")
        }
        return (Int(last), Self.parseValue(String(cString: text)))
    }

    static func free(_ array: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ count: UInt) {
        guard let array else { return }
        for i in 0..<Int(count) { rrd_freemem(array[i]) }
        rrd_freemem(array)
    }

    /// One consolidated series: `values[i]` covers the step ending at `start + (i + 1) * step`.
    public struct Series: Sendable, Equatable {
        public var start: Int
        public var step: Int
        public var values: [Double?]
    }

    /// `cf` ("AVERAGE" or "MAX") values of `metric` between `start` and `end`; librrd picks the finest archive that
    /// covers the range.
    public func fetch(_ metric: Metric, cf: String, start: Int, end: Int) throws(AgentError) -> Series {
        let series = try withVerifiedFile(metric) { (opened) throws(AgentError) in
            try fetch(metric, opened: opened, cf: cf, start: start, end: end)
        }
        guard let series else {
            throw .io(operation: "read", path: path(metric), reason: "no such file; has 'h2e-agent sample' run yet?")
        }
        return series
    }

    private func fetch(_ metric: Metric, opened: String, cf: String, start: Int, end: Int) throws(AgentError) -> Series {
        let file = path(metric)
        var s = time_t(start)
        var e = time_t(end)
        var step: UInt = 0
        var count: UInt = 0
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        var data: UnsafeMutablePointer<rrd_value_t>?
        let (_, message) = Self.call(
            { rrd_fetch_r(opened, cf, &s, &e, &step, &count, &names, &data) }, failed: { $0 != 0 })
        defer {
            Self.free(names, count)
            if let data { rrd_freemem(data) }
        }
        if let message { throw .corruptRRD(path: file, message: message) }
        guard count == 1, step > 0, let data else {
            throw .corruptRRD(path: file, message: "expected one data source")
        }
        let rows = max(0, Int(e - s) / Int(step))
        let values: [Double?] = (0..<rows).map { data[$0].isNaN ? nil : data[$0] }
        return Series(start: Int(s), step: Int(step), values: values)
    }

    // MARK: write

    /// Writes `entries` (time, value; `nil` = unknown) to `metric`'s file, in order. Values must be validated
    /// (``validated(_:for:)``): librrd turns junk into unknown without a word.
    public func update(_ metric: Metric, _ entries: [(time: Int, value: Double?)]) throws(AgentError) {
        let file = path(metric)
        let args = entries.map { "\($0.time):\($0.value.map(Self.formatValue) ?? "U")" }
        // A reader (the agent's server answering a director) holds a shared lock on the file for microseconds, and
        // librrd does not wait for it: try again for up to about a second rather than lose the sample.
        var attempt = 0
        while true {
            let (_, message) = withCStrings(args) { argv in
                Self.call({ rrd_update_r(file, nil, Int32(args.count), argv) }, failed: { $0 != 0 })
            }
            guard let message else { return }
            attempt += 1
            guard message.contains("could not lock"), attempt < 200 else {
                throw .rrd(operation: "update", path: file, message: message)
            }
            usleep(5_000)
        }
    }

    /// `value` if the metric's RRD accepts it (finite, >= 0, <= maximum), else `nil` (stored as unknown).
    public static func validated(_ value: Double?, for metric: Metric) -> Double? {
        guard let value, value.isFinite, value >= 0 else { return nil }
        if let max = metric.maximum, value > max { return nil }
        return value
    }

    /// Plain decimal text librrd parses back exactly ("%.17g"-like, never a locale separator).
    static func formatValue(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    static func parseValue(_ text: String) -> Double? {
        guard text != "U", let v = Double(text), v.isFinite else { return nil }
        return v
    }
}
