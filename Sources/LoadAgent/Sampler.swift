import Logging

#if canImport(Glibc)
import Glibc
#endif

/// One `h2e-agent sample` run: measure, then, under the state directory's lock, write every metric's RRD file.
public struct Sampler: Sendable {
    public struct Configuration: Sendable {
        /// State directory holding the RRD files, the CPU counter state and the lock file.
        public var directory: String
        public var procRoot: String
        public var servicePorts: Set<UInt16>
        /// Loopback Apache `?auto` or nginx stub_status URL; `nil`: busy workers unknown.
        public var statusURL: String?

        public init(directory: String, procRoot: String = "/proc", servicePorts: Set<UInt16> = [80, 443], statusURL: String? = nil) {
            self.directory = directory
            self.procRoot = procRoot
            self.servicePorts = servicePorts
            self.statusURL = statusURL
        }
    }

    public enum Outcome: Sendable, Equatable {
        /// The sample was written (at its aligned time); `created` lists files made on this run.
        case recorded(LoadSample, created: [Metric])
        /// Nothing written; why (a duplicate or late run).
        case skipped(reason: String)
    }

    public var configuration: Configuration
    public var logger: Logger

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    var store: RRDStore { RRDStore(directory: configuration.directory) }
    var cpuStatePath: String { "\(configuration.directory)/cpu.state" }
    public var lockPath: String { "\(configuration.directory)/sample.lock" }

    /// Runs once. `now` gives Unix seconds (read after the lock is taken).
    public func run(now: () -> Int) throws(AgentError) -> Outcome {
        try ensureDirectory()
        let proc = ProcSampler(root: configuration.procRoot, servicePorts: configuration.servicePorts)
        let loadAverage = try proc.loadAverage()
        let memory = try proc.memory()
        let tcp = try proc.tcpEstablished()
        var busy: Int?
        if let url = configuration.statusURL {
            do {
                let body = try StatusPageClient(url: url).fetch()
                do { busy = try WorkerStatus.parseBusyWorkers(body) } catch { throw AgentError.parse(error) }
            } catch {
                // The other figures are still worth recording; busy_workers stays unknown for this minute.
                logger.warning("\(error)")
            }
        }

        let lock = try FileLock(path: lockPath, timeout: 50)
        defer { withExtendedLifetime(lock) {} }

        let time = now()
        let step = RRDStore.step
        // A duplicate or late run stops here, before it touches the CPU counters kept for the next sample.
        if let last = try store.lastUpdate(.load)?.time,
            case .skip(let reason) = SampleSchedule.decide(now: time, lastUpdate: last, value: nil, step: step)
        {
            return .skipped(reason: reason)
        }
        let cpu = try proc.cpuTimes()
        let util = try cpuUtilisation(current: cpu, proc: proc)
        let sample = LoadSample(
            time: SampleSchedule.aligned(time, step: step), load1: loadAverage.one, load5: loadAverage.five,
            load15: loadAverage.fifteen, cpus: cpu.cpuCount, cpuUtil: util, memUsed: Double(memory.used),
            memAvailable: Double(memory.available), tcpEstablished: tcp, busyWorkers: busy)
        var created: [Metric] = []
        var skipReason: String?
        var wrote = false
        for metric in Metric.allCases {
            let value = RRDStore.validated(sample[metric], for: metric)
            if sample[metric] != nil, value == nil {
                logger.warning("\(metric.rawValue) value \(sample[metric]!) is out of range; stored as unknown")
            }
            var last = try store.lastUpdate(metric)?.time
            if last == nil {
                try store.create(metric, lastUpdate: sample.time - step)
                created.append(metric)
                last = sample.time - step
            }
            switch SampleSchedule.decide(now: time, lastUpdate: last!, value: value, step: step) {
            case .write(let points):
                try store.update(metric, points.map { ($0.time, $0.value) })
                wrote = true
            case .skip(let reason):
                skipReason = reason
            }
        }
        if !wrote, let skipReason { return .skipped(reason: skipReason) }
        return .recorded(sample, created: created)
    }

    /// Utilisation since the previous run's counters (kept in `cpu.state`); without usable previous counters (first
    /// run, reboot) a half-second measurement now.
    func cpuUtilisation(current: CPUTimes, proc: ProcSampler) throws(AgentError) -> Double? {
        var previous: CPUTimes?
        if FileIO.exists(cpuStatePath) {
            previous = (try? FileIO.readText(cpuStatePath)).flatMap { CPUTimes(stateLine: $0) }
        }
        var util = previous.flatMap { current.utilisation(since: $0) }
        var latest = current
        if util == nil {
            usleep(500_000)
            latest = try proc.cpuTimes()
            util = latest.utilisation(since: current)
        }
        try FileIO.writeAtomically(cpuStatePath, Array(latest.stateLine.utf8))
        return util
    }

    func ensureDirectory() throws(AgentError) {
        var st = stat()
        if stat(configuration.directory, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw .io(operation: "use", path: configuration.directory, reason: "not a directory")
            }
            return
        }
        guard mkdir(configuration.directory, 0o755) == 0 || errno == EEXIST else {
            throw .io(operation: "create the state directory", path: configuration.directory, reason: FileIO.errnoText())
        }
    }
}
