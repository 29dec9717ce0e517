import Logging
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The answers to `GET /load` and `GET /load.json`, kept serialised so that answering one is a copy of bytes, with
/// no file read and no hop off the event loop.
///
/// ``refresh(at:now:)`` rebuilds both; the server's live sampler calls it once a second, so an answer is at most
/// about 1 s old (its `age` and `live` figures as of the last refresh). Each refresh takes one ``CPUReading`` into the
/// ``LiveWindow``. The RRD part, the cron job's last sample, is read again only when load.rrd changed (inode, size,
/// mtime or ctime) or a newer sample is due (the last is more than one RRD step old), not at every refresh.
public final class LoadAnswers: Sendable {
    public typealias Response = LoadResponder.Response

    struct Answers: Sendable {
        var load: Response
        var loadJSON: Response
    }

    /// What refreshes carry from one to the next; touched only by ``refresh(at:now:)``.
    struct State: Sendable {
        var window = LiveWindow()
        /// The reader's last error, logged once until it reads again.
        var readerError: String?
        var rrdFile: FileIdentity?
        var sample: Result<LoadSample?, AgentError>?
    }

    /// What tells that load.rrd was written.
    struct FileIdentity: Equatable, Sendable {
        var inode: UInt64
        var size: Int64
        var modified: [Int]
    }

    public let store: RRDStore
    public let serverID: String
    public let reader: CPUReader
    let logger: Logger
    private let answers: Mutex<Answers>
    private let state = Mutex(State())

    public init(store: RRDStore, serverID: String, reader: CPUReader, logger: Logger) {
        self.store = store
        self.serverID = serverID
        self.reader = reader
        self.logger = logger
        let starting = Response(status: 503, text: "starting: no answer built yet; retry in a second\n")
        answers = Mutex(Answers(load: starting, loadJSON: starting))
    }

    /// The current answer to `GET /load`.
    public var load: Response { answers.withLock { $0.load } }
    /// The current answer to `GET /load.json`.
    public var loadJSON: Response { answers.withLock { $0.loadJSON } }

    /// Takes a CPU reading at `instant` (monotonic) and rebuilds both answers for `now` (Unix seconds). Blocking (a
    /// few small files; librrd when the sample changed): call it off the event loop, about once a second.
    public func refresh(at instant: NIODeadline, now: Int) {
        let reading = Result { () throws(AgentError) in try reader.read() }
        let file = identity(of: store.path(.load))
        let (live, sample) = state.withLock { state -> (LiveLoad?, Result<LoadSample?, AgentError>) in
            switch reading {
            case .success(let reading):
                if state.readerError != nil { logger.notice("live load: \(reader.sourceName) readable again") }
                state.readerError = nil
                state.window.record(reading, at: instant)
            case .failure(let error):
                if state.readerError != error.summary { logger.warning("live load unknown: \(error.summary)") }
                state.readerError = error.summary
                state.window.reset()
            }
            if file != state.rrdFile || needsRead(state.sample, now: now) {
                state.rrdFile = file
                state.sample = Result { () throws(AgentError) in try LoadStatus.latestSample(in: store) }
            }
            return (state.window.live(source: reader.sourceName, cgroup: reader.cgroupPath), state.sample!)
        }
        let built = Self.build(sample: sample, live: live, serverID: serverID, now: now, directory: store.directory)
        answers.withLock { $0 = built }
    }

    /// Whether the sample must be read again though load.rrd looks unchanged: after a failure, or when a newer one
    /// is due (an update that changed no file time, as librrd's writes through mmap may do).
    func needsRead(_ sample: Result<LoadSample?, AgentError>?, now: Int) -> Bool {
        switch sample {
        case nil, .failure: return true
        case .success(nil): return false
        case .success(let sample?): return now - sample.time > RRDStore.step
        }
    }

    func identity(of path: String) -> FileIdentity? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileIdentity(
            inode: UInt64(st.st_ino), size: Int64(st.st_size),
            modified: [st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_ctim.tv_sec, st.st_ctim.tv_nsec])
    }

    /// Both answers from the last sample (or why there is none) and the live figure.
    static func build(
        sample: Result<LoadSample?, AgentError>, live: LiveLoad?, serverID: String, now: Int, directory: String
    ) -> Answers {
        switch sample {
        case .failure(let error):
            // The answer goes to anyone who can reach the port: no absolute path in it.
            let response = Response(status: 500, text: "error: \(error.description(hiding: directory))\n")
            return Answers(load: response, loadJSON: response)
        case .success(nil):
            let json = "{\"server\":\(JSONText.string(serverID)),\"error\":\"no sample yet\","
                + "\"live\":\(live?.json ?? "null")}\n"
            return Answers(
                load: LoadResponder.noSample,
                loadJSON: Response(status: 503, contentType: "application/json", body: Array(json.utf8)))
        case .success(let sample?):
            let status = LoadStatus(server: serverID, sample: sample, now: now, live: live)
            let load =
                status.unusableReason.map { Response(status: 503, text: "\($0)\n") }
                ?? Response(status: 200, text: status.loadLine ?? "")
            return Answers(
                load: load, loadJSON: Response(status: 200, contentType: "application/json", body: Array(status.json.utf8)))
        }
    }
}
