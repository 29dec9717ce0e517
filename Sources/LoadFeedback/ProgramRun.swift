import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The event-loop-confined state of one load program run: output read so far, whether it ended, the exit status.
/// The reading is given once both the output ended and the process exited, or earlier on a failure.
final class ProgramRun {
    private let process: SpawnedProcess
    private let limit: Int
    private let promise: EventLoopPromise<LoadReading>
    private var output: [UInt8] = []
    private var outputEnded = false
    private var exitStatus: CInt?
    private var finished = false
    private var channel: (any Channel)?
    var deadlineTask: Scheduled<Void>?

    init(process: SpawnedProcess, limit: Int, promise: EventLoopPromise<LoadReading>) {
        self.process = process
        self.limit = limit
        self.promise = promise
    }

    func attach(_ channel: any Channel) {
        if finished {
            channel.close(promise: nil)
        } else {
            self.channel = channel
        }
    }

    func received(_ buffer: ByteBuffer) {
        guard !finished else { return }
        guard output.count + buffer.readableBytes <= limit else {
            return finish(.failed(.tooLarge(limit: limit)))
        }
        output.append(contentsOf: buffer.readableBytesView)
    }

    func outputClosed() {
        outputEnded = true
        evaluate()
    }

    /// Polls for the exit without blocking: quickly while the run is on, slowly after it was given up (a killed
    /// process still has to be reaped).
    func reap(on eventLoop: any EventLoop, after delay: TimeAmount) {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.scheduleTask(in: delay) {
            let run = bound.value
            switch run.process.poll() {
            case .running:
                let next = run.finished ? min(delay * 2, .seconds(1)) : .milliseconds(10)
                run.reap(on: eventLoop, after: next)
            case .exited(let status):
                run.exitStatus = status
                run.evaluate()
            case .lost(let why):
                run.exitStatus = -1
                run.finish(.failed(.programFailed("its exit status was lost (\(why))")))
            }
        }
    }

    private func evaluate() {
        guard outputEnded, let status = exitStatus, !finished else { return }
        if let failure = SpawnedProcess.describeFailure(status: status) {
            return finish(.failed(.programFailed(failure)))
        }
        let text = String(decoding: output, as: UTF8.self)
        switch LoadFigure.parse(text) {
        case .success(let value): finish(LoadReading.checked(perCPU: value, at: .now()))
        case .failure(let failure): finish(.failed(failure))
        }
    }

    func finish(_ reading: LoadReading) {
        guard !finished else { return }
        finished = true
        deadlineTask?.cancel()
        if exitStatus == nil || !outputEnded {
            // Given up before it ended: stop the program and whatever it started (its own process group).
            process.killGroup()
        }
        channel?.close(promise: nil)
        channel = nil
        promise.succeed(reading)
    }
}

/// Feeds a program's standard output into its ``ProgramRun``.
final class ProgramOutputHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let run: ProgramRun

    init(run: ProgramRun) {
        self.run = run
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        run.received(unwrapInboundIn(data))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            run.outputClosed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        run.outputClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        run.finish(.failed(.programFailed("reading its output failed: \(error)")))
        context.close(promise: nil)
    }
}
