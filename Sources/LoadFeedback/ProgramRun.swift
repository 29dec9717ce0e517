import HostSystem
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The event-loop-confined state of one load program run: output read so far, whether it ended, the exit status.
/// The reading is given once both the output ended and the process exited, or earlier on a failure.
final class ProgramRun {
    private let process: ChildProcess
    private let limit: Int
    private let promise: EventLoopPromise<LoadReading>
    private var eventLoop: any EventLoop { promise.futureResult.eventLoop }
    private var output: [UInt8] = []
    private var outputEnded = false
    /// nil while running; then the exit's failure, nil for a clean exit.
    private var exitFailure: String??
    /// Someone else reaped it: its pid may be reused, never signal it.
    private var lost = false
    private var finished = false
    private var channel: (any Channel)?
    var deadlineTask: Scheduled<Void>?

    init(process: ChildProcess, limit: Int, promise: EventLoopPromise<LoadReading>) {
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

    /// Watches for the exit without blocking and without reaping, every 10 ms until the run is finished.
    func watch() {
        let eventLoop = self.eventLoop
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.scheduleTask(in: .milliseconds(10)) {
            let run = bound.value
            guard !run.finished else { return }
            let status = run.process.poll()
            switch status {
            case .running:
                run.watch()
            case .exited, .signalled:
                run.exitFailure = .some(status.failure)
                run.evaluate()
            case .lost:
                run.lost = true
                run.finish(.failed(.programFailed(status.failure ?? "lost")))
            }
        }
    }

    /// Removes the finished process: at once if it exited, else (killed just now) soon; polls with a growing
    /// interval, never blocking.
    private func reap(after delay: TimeAmount) {
        if process.reap() { return }
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.scheduleTask(in: delay) {
            bound.value.reap(after: min(delay * 2, .seconds(1)))
        }
    }

    private func evaluate() {
        guard outputEnded, let failure = exitFailure, !finished else { return }
        if let failure {
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
        if !lost && (!outputEnded || exitFailure == nil) {
            // Given up before it ended: stop the program and whatever it started (its own process group). It is
            // not reaped yet, so the group id is still ours.
            process.killGroup()
        }
        if !lost { reap(after: .milliseconds(5)) }
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
