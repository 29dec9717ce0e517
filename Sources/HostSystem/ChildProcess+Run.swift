#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension ChildProcess {
    /// How a program run to completion ended.
    public struct Completion: Sendable {
        /// How it ended: `.exited`, `.signalled` or `.lost`; after the time limit, whatever the kill led to.
        public var status: Status
        /// It ran past its time limit and was killed with its process group.
        public var timedOut: Bool
        /// The first `outputLimit` bytes of its output.
        public var output: [UInt8]
        /// Bytes of output beyond those kept.
        public var droppedOutput: Int
        public var duration: Duration
    }

    /// Starts `/bin/sh -c command` and waits for it, reading its output; kills its process group once it runs past
    /// `timeLimit`. Blocking: call it on a thread pool.
    ///
    /// The command is done when the shell exits: a program it started in the background may keep the output pipe
    /// open, so reading stops there (what is already written is kept) instead of waiting for end of file.
    public static func run(
        shell command: String, environment: [String]? = nil, error: ErrorOutput = .null, timeLimit: Duration?,
        outputLimit: Int
    ) throws(SpawnError) -> Completion {
        let start = ContinuousClock.now
        let process = try ChildProcess(
            executable: "/bin/sh", arguments: ["/bin/sh", "-c", command], environment: environment, output: .pipe,
            error: error)
        defer { process.closeOutput() }
        let deadline = timeLimit.map { start + $0 }
        var completion = Completion(status: .running, timedOut: false, output: [], droppedOutput: 0, duration: .zero)
        var endOfOutput = false
        var chunk = [UInt8](repeating: 0, count: 4_096)
        // Reads what the pipe holds, waiting at most `milliseconds`; false at end of file or on an error.
        func readSome(waiting milliseconds: Int32) -> Bool {
            var poller = pollfd(fd: process.output, events: Int16(POLLIN), revents: 0)
            let ready = waitReadable(&poller, milliseconds)
            if ready < 0 { return errno == EINTR }
            if ready == 0 { return true }
            let count = chunk.withUnsafeMutableBytes { read(process.output, $0.baseAddress, $0.count) }
            if count < 0 { return errno == EINTR || errno == EAGAIN }
            if count == 0 { return false }
            let kept = min(count, max(0, outputLimit - completion.output.count))
            completion.output.append(contentsOf: chunk.prefix(kept))
            completion.droppedOutput += count - kept
            return true
        }
        while completion.status == .running {
            let status = process.poll()
            switch status {
            case .running:
                if let deadline, ContinuousClock.now >= deadline {
                    process.killGroup()
                    completion.timedOut = true
                    completion.status = .signalled(SIGKILL)
                } else if endOfOutput {
                    usleep(10_000)
                } else {
                    endOfOutput = !readSome(waiting: 20)
                }
            case .exited, .signalled:
                // What it wrote before exiting, without waiting for a background child to close the pipe.
                var rounds = 0
                while !endOfOutput, rounds < 64, readSome(waiting: 0) { rounds += 1 }
                completion.status = status
            case .lost:
                completion.status = status
            }
        }
        if case .lost = completion.status {} else {
            // Reap it (after a kill, once it died); bounded: a process that outlives SIGKILL for 2 s is left behind.
            var waits = 0
            while !process.reap(), waits < 200 {
                usleep(10_000)
                waits += 1
            }
        }
        completion.duration = start.duration(to: .now)
        return completion
    }
}

/// poll(2) on one descriptor (a free function: inside ``ChildProcess`` the name `poll` is its own method).
private func waitReadable(_ descriptor: inout pollfd, _ milliseconds: Int32) -> Int32 {
    poll(&descriptor, 1, milliseconds)
}
