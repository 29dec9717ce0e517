import HostSystem
import NIOCore
import NIOPosix

/// Runs a load program (Piranha's `load_monitor`): `command ADDRESS [arguments...]`, and reads a load figure from
/// its standard output (``LoadFigure``).
///
/// Bounded like the agent client: the program gets ``Configuration/deadline`` to print and exit, after which its
/// whole process group is killed; at most ``Configuration/maximumOutput`` bytes are read. It runs with standard
/// input and error on /dev/null, a fixed PATH and the C locale (so `uptime` prints `0.52`, not `0,52`). A non-zero
/// exit status is a failure, as in Piranha's nanny. Nothing blocks: output is read and the exit is awaited on the
/// event loop.
public struct LoadProgram: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Limit for the program to print its figure and exit.
        public var deadline: TimeAmount
        /// Largest output read; a longer one is a failure.
        public var maximumOutput: Int
        /// PATH of the program's environment, also used to find a command given without a slash.
        public var searchPath: String

        public init(
            deadline: TimeAmount = .seconds(5),
            maximumOutput: Int = 4096,
            searchPath: String = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        ) {
            self.deadline = deadline
            self.maximumOutput = maximumOutput
            self.searchPath = searchPath
        }
    }

    public let command: String
    public let argumentsAfterAddress: [String]
    public let configuration: Configuration
    private let group: any EventLoopGroup

    public init(
        command: String,
        argumentsAfterAddress: [String] = [],
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        configuration: Configuration = .init()
    ) {
        self.command = command
        self.argumentsAfterAddress = argumentsAfterAddress
        self.group = group
        self.configuration = configuration
    }

    /// The load of the server at `address`.
    public func run(address: String) async -> LoadReading {
        (try? await self.runFuture(address: address).get()) ?? .failed(.programFailed("internal error"))
    }

    /// The loads of many servers; the programs run concurrently.
    public func run(addresses: [String]) async -> [String: LoadReading] {
        let futures = addresses.map { ($0, self.runFuture(address: $0)) }
        var readings: [String: LoadReading] = [:]
        for (address, future) in futures {
            readings[address] = (try? await future.get()) ?? .failed(.programFailed("internal error"))
        }
        return readings
    }

    /// One run as a future that always succeeds with a reading.
    public func runFuture(address: String) -> EventLoopFuture<LoadReading> {
        let eventLoop = self.group.next()
        return eventLoop.flatSubmit { self.start(address: address, on: eventLoop) }
    }

    private func start(address: String, on eventLoop: any EventLoop) -> EventLoopFuture<LoadReading> {
        let configuration = self.configuration
        let process: ChildProcess
        do {
            let executable = try ChildProcess.resolve(command, searchPath: configuration.searchPath)
            process = try ChildProcess(
                executable: executable,
                arguments: [command, address] + argumentsAfterAddress,
                environment: ["PATH=\(configuration.searchPath)", "LC_ALL=C", "LANG=C"])
        } catch {
            return eventLoop.makeSucceededFuture(.failed(.programFailed("\(error)")))
        }
        let promise = eventLoop.makePromise(of: LoadReading.self)
        let run = NIOLoopBound(
            ProgramRun(process: process, limit: configuration.maximumOutput, promise: promise), eventLoop: eventLoop)
        run.value.deadlineTask = eventLoop.scheduleTask(in: configuration.deadline) {
            run.value.finish(.failed(.timedOut(configuration.deadline)))
        }
        run.value.watch()
        NIOPipeBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ProgramOutputHandler(run: run.value))
                }
            }
            .takingOwnershipOfDescriptor(input: process.output)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    run.value.attach(channel)
                case .failure(let error):
                    process.closeOutput()
                    run.value.finish(.failed(.programFailed("cannot read its output: \(error)")))
                }
            }
        return promise.futureResult
    }
}
