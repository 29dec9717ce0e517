import AgentWire
import Logging
import NIOCore
import Synchronization

/// The answers to `GET /load` and `GET /load.json`, kept serialised so that answering one is a copy of bytes, with
/// no file read and no hop off the event loop.
///
/// ``refresh(at:now:)`` rebuilds both; the server's live sampler calls it once a second, so an answer is at most
/// about 1 s old (its `age` and `live` figures as of the last refresh). Each refresh takes one ``CPUReading`` into the
/// ``LiveWindow`` and reads the cron job's last sample from the RRD files again (about 0.2 ms a second). Not only
/// when load.rrd's mtime changed: librrd writes through mmap, and on tmpfs (the test VM's state directories, some
/// containers' /var/lib) such writes leave the mtime alone, so a new sample would go unseen for good.
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
    /// few small files, librrd's last updates of the RRD files): call it off the event loop, about once a second.
    public func refresh(at instant: NIODeadline, now: Int) {
        let reading = Result { () throws(AgentError) in try reader.read() }
        let sample = Result { () throws(AgentError) in try LoadStatus.latestSample(in: store) }
        let live = state.withLock { state -> LiveLoad? in
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
            return state.window.live(source: reader.sourceName, cgroup: reader.cgroupPath)
        }
        let built = Self.build(sample: sample, live: live, serverID: serverID, now: now, directory: store.directory)
        answers.withLock { $0 = built }
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
            let json = LoadErrorDocument(server: serverID, error: "no sample yet", live: live?.wire).json
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
