import CLinux
import Synchronization
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs TCP and UDP checks on non-blocking sockets watched by an epoll instance of its own, and `send_program` checks
/// on a thread pool. Confined to one thread (the engine's loop, or the thread of a single ``HealthChecker/run``).
///
/// A check costs the system calls it needs and nothing more: `connect`, a `send` straight after it, one or two
/// `recv`s, with no channel, pipeline, promise or timer of its own. A TCP socket whose check ended cleanly is
/// dissolved with `connect(AF_UNSPEC)` (the kernel resets it to a fresh, unbound socket) and serves a later check,
/// instead of a `close` and a `socket` (with 2,000 checks a second, 42 against 32 us of CPU per check in a C model of
/// this loop). Sockets are watched edge-triggered and stay registered, under their descriptor, while they idle, so
/// only a new socket costs an `epoll_ctl`. A new stream socket for a check that sends at once (or only connects) gets
/// `TCP_DEFER_ACCEPT`, which on a connecting socket makes the kernel hold the handshake's last ACK and send it with
/// the request: one packet fewer per check on the director's bill (see ``SocketKind``). The
/// caller decides when to poll: the engine polls every few milliseconds while checks are in flight, so that one
/// wake-up serves every check whose answer came in meanwhile (on a machine doing 1,000 checks a second, wake-ups, not
/// socket calls, were most of a check's cost: scripts/bench-healthcheck).
///
/// Every way out of a check (answer, mismatch, close, reset, refusal, timeout) produces exactly one result and closes
/// its descriptor. A failure of this host (out of descriptors, buffers or memory) is `.inconclusive`, never a
/// verdict on the server.
public final class SocketProbes: HealthProbes {
    /// One check in flight.
    struct Probe {
        enum Phase {
            case connecting
            case sending(written: Int)
            case reading
            case datagram
        }

        var fd: Int32
        /// Which idle sockets this check can take, and where its socket goes when it is kept for another check.
        var kind = SocketKind(family: 0, defersAck: false)
        var token: UInt64
        var deadline: NIODeadline
        var phase: Phase
        var send: [UInt8]
        var matcher: AnswerMatcher?
        /// Answer bytes worth reading (`bytesWanted`), 0 when no answer is awaited.
        var wanted: Int
        var received: [UInt8] = []
        /// An answer arrived while the request was still being written: read it once the write completes (the
        /// edge that announced it will not come again).
        var readable = false
    }

    private let threadPool: NIOThreadPool?
    private let epoll: Int32
    /// Why the epoll instance could not be made; every TCP and UDP check is then inconclusive.
    private let epollError: LocalCheckError?
    /// Checks in flight, indexed by their socket's descriptor. A socket stays in the epoll set, under its
    /// descriptor, for as long as it is open, including while it idles between checks: a reused socket needs no
    /// `epoll_ctl`, and an event for a socket with no check in flight is dropped.
    private var slots: [Probe?] = []
    private var inFlight = 0
    private var earliestDeadline = NIODeadline.distantFuture
    private var ready: [ProbeResult] = []
    private let programs = ProgramResults()
    private var programsInFlight = 0
    /// What makes one idle TCP socket fit a check and another not.
    struct SocketKind: Hashable {
        var family: Int32
        /// `TCP_DEFER_ACCEPT` is set: the handshake's last ACK waits (up to 200 ms) for data to ride on. Right for a
        /// check that sends at once or only connects (the close carries it); wrong for one that waits for the
        /// server to speak first, which the server does only once it has the ACK.
        var defersAck: Bool
    }

    /// Connected-and-done TCP sockets, dissolved with `connect(AF_UNSPEC)` and kept for the next checks, by kind
    /// (see ``release(_:recycle:)``).
    private var idleSockets: [SocketKind: [Int32]] = [:]
    private var idleCount = 0
    /// Sockets made with `socket()` so far (the others were reused).
    private(set) var socketsOpened = 0
    /// Idle sockets kept at most: enough for the checks of one poll at 10,000 checks a second, few enough to be
    /// noise in the descriptor budget.
    static let maximumIdleSockets = 256
    private var events: UnsafeMutableBufferPointer<epoll_event>
    private let scratch: UnsafeMutableRawBufferPointer

    /// - Parameter threadPool: runs `send_program` checks (they block on their child); without one they run on the
    ///   calling thread, which only ``HealthChecker/run(_:against:timeout:)`` does, on a pool thread already.
    public init(threadPool: NIOThreadPool?) {
        self.threadPool = threadPool
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        self.epoll = fd
        self.epollError = fd < 0 ? LocalCheckError(call: "epoll_create1", errno: errno) : nil
        self.events = .allocate(capacity: 256)
        self.scratch = .allocate(byteCount: HealthChecker.maximumAnswerBytes, alignment: 8)
    }

    deinit {
        cancelAll()
        if epoll >= 0 { close(epoll) }
        events.deallocate()
        scratch.deallocate()
    }

    public func start(_ check: HealthCheck, against endpoint: HealthEndpoint, deadline: LoopInstant, token: UInt64) {
        switch check {
        case .connect:
            open(SOCK_STREAM, endpoint, Probe(
                fd: -1, token: token, deadline: deadline.deadline, phase: .connecting, send: [], matcher: nil,
                wanted: 0))
        case .sendExpect(let send, let expect):
            let matcher = expect?.makeMatcher()
            open(SOCK_STREAM, endpoint, Probe(
                fd: -1, token: token, deadline: deadline.deadline, phase: .connecting, send: send, matcher: matcher,
                wanted: matcher?.bytesWanted(limit: HealthChecker.maximumAnswerBytes) ?? 0))
        case .udp(let send, let expect):
            open(SOCK_DGRAM, endpoint, Probe(
                fd: -1, token: token, deadline: deadline.deadline, phase: .datagram, send: send,
                matcher: expect.makeMatcher(), wanted: HealthChecker.maximumAnswerBytes))
        case .program(let commandLine, let expect):
            let command = HealthCheck.substitute(commandLine, endpoint: endpoint)
            let timeout = Duration(deadline.deadline - .now())
            guard let threadPool else {
                ready.append(ProbeResult(
                    token: token,
                    result: ProgramRunner.run(
                        command, expect: expect, timeout: timeout, outputLimit: HealthChecker.maximumAnswerBytes)))
                return
            }
            programsInFlight += 1
            let programs = self.programs
            threadPool.submit { state in
                let result: HealthCheckResult =
                    if case .active = state {
                        ProgramRunner.run(
                            command, expect: expect, timeout: timeout, outputLimit: HealthChecker.maximumAnswerBytes)
                    } else {
                        .failed(.programNotStarted("thread pool stopped"))
                    }
                programs.append(ProbeResult(token: token, result: result))
            }
        }
    }

    public func poll(now: LoopInstant, into results: inout [ProbeResult]) {
        if inFlight > 0 { drainEvents(waitingMilliseconds: 0) }
        if inFlight > 0, now.deadline >= earliestDeadline { expire(now: now.deadline) }
        if programsInFlight > 0 {
            let finished = programs.take()
            programsInFlight -= finished.count
            results.append(contentsOf: finished)
        }
        results.append(contentsOf: ready)
        ready.removeAll(keepingCapacity: true)
    }

    public func nextResult(now: LoopInstant) -> LoopInstant? {
        ready.isEmpty ? nil : now
    }

    /// Whether any check is still running.
    var isIdle: Bool { inFlight == 0 && programsInFlight == 0 && ready.isEmpty }

    /// Blocks until a socket check has something to say or the earliest deadline passes, then handles it (for
    /// ``HealthChecker/run``, which waits on one check).
    func wait() {
        guard inFlight > 0 else { return }
        let left = earliestDeadline.uptimeNanoseconds.subtractingReportingOverflow(NIODeadline.now().uptimeNanoseconds)
        let milliseconds = left.overflow ? 0 : Int32(clamping: (left.partialValue + 999_999) / 1_000_000)
        drainEvents(waitingMilliseconds: milliseconds)
        let now = NIODeadline.now()
        if inFlight > 0, now >= earliestDeadline { expire(now: now) }
    }

    public func cancelAll() {
        for index in slots.indices where slots[index] != nil {
            release(index, recycle: false)
        }
        for fd in idleSockets.values.joined() { close(fd) }
        idleSockets = [:]
        idleCount = 0
        ready.removeAll()
        // Programs still running finish on their own (killed at their timeout); their results are dropped.
        programsInFlight = 0
        _ = programs.take()
    }

    // MARK: starting

    private func open(_ type: __socket_type, _ endpoint: HealthEndpoint, _ template: Probe) {
        var probe = template
        if let epollError { return finish(probe, .inconclusive(epollError)) }
        let family = endpoint.socketAddress.protocol.rawValue
        let kind = SocketKind(family: family, defersAck: !(probe.send.isEmpty && probe.matcher != nil))
        let reused = type == SOCK_STREAM ? idleSockets[kind]?.popLast() : nil
        let fd: Int32
        if let reused {
            fd = reused
            idleCount -= 1
        } else {
            fd = socket(family, Int32(type.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return finish(probe, Self.failure(call: "socket", errno: errno)) }
            socketsOpened += 1
            if type == SOCK_STREAM, kind.defersAck {
                var on: Int32 = 1
                _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_DEFER_ACCEPT, &on, socklen_t(MemoryLayout<Int32>.size))
            }
        }
        probe.fd = fd
        probe.kind = kind
        let connected = endpoint.socketAddress.withSockAddr { address, length in
            Glibc.connect(fd, address, socklen_t(length))
        }
        if connected != 0, errno != EINPROGRESS {
            return finish(probe, Self.failure(call: "connect", errno: errno))
        }
        if case .datagram = probe.phase, let error = write(&probe) {
            return finish(probe, error)
        }
        if case .connecting = probe.phase, !probe.send.isEmpty {
            // Write at once: a connection to a nearby server is often established before connect() returns, and
            // the request then goes out without waiting for a poll. If it is not, send() says EAGAIN (or why the
            // connection failed) and the check waits for the socket as usual.
            probe.phase = .sending(written: 0)
            if let error = write(&probe) { return finish(probe, error) }
            if case .reading = probe.phase, probe.matcher == nil { return finish(probe, .passed) }
        }
        if reused == nil {
            // Edge-triggered: epoll re-reads the socket's state when it reports it, so an edge left over from the
            // socket's previous check reports the state of this one, which `advance` takes as it finds it.
            var event = epoll_event()
            event.events = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
            event.data.u64 = UInt64(fd)
            guard epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 else {
                return finish(probe, Self.failure(call: "epoll_ctl", errno: errno))
            }
        }
        let index = Int(fd)
        if index >= slots.count { slots.append(contentsOf: repeatElement(nil, count: index + 1 - slots.count)) }
        slots[index] = probe
        inFlight += 1
        if probe.deadline < earliestDeadline { earliestDeadline = probe.deadline }
    }

    // MARK: events

    private func drainEvents(waitingMilliseconds: Int32) {
        var timeout = waitingMilliseconds
        while true {
            let count = epoll_wait(epoll, events.baseAddress, Int32(events.count), timeout)
            guard count > 0 else { return }
            for event in events.prefix(Int(count)) {
                let index = Int(truncatingIfNeeded: event.data.u64)
                guard index < slots.count, slots[index] != nil else { continue }  // an idle socket
                handle(index, events: event.events)
            }
            guard Int(count) == events.count else { return }
            timeout = 0
        }
    }

    private func handle(_ index: Int, events: UInt32) {
        let readable = events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
        guard let outcome = advance(&slots[index]!, readable: readable) else { return }
        let token = slots[index]!.token
        // A stream whose server answered (rightly or not) is left clean: the socket serves another check. Dissolving
        // it resets the connection, as closing it with the rest of the answer unread does anyway. A check that
        // awaited no answer closes its socket: the server sees an orderly close, as nanny's checks gave it.
        let answered: Bool =
            switch outcome {
            case .passed, .failed(.unexpectedAnswer), .failed(.closedBeforeAnswer): slots[index]!.matcher != nil
            default: false
            }
        release(index, recycle: answered)
        ready.append(ProbeResult(token: token, result: outcome))
    }

    /// Moves `probe` on as far as its socket allows; the result when the check is decided.
    private func advance(_ probe: inout Probe, readable: Bool) -> HealthCheckResult? {
        if readable { probe.readable = true }
        switch probe.phase {
        case .connecting:
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(probe.fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error == EINPROGRESS || error == EALREADY { return nil }
            if error != 0 { return Self.failure(call: "connect", errno: error) }
            if probe.send.isEmpty {
                // Plain connect: done. With an expectation and nothing to send, the server speaks first.
                guard probe.matcher != nil else { return .passed }
                probe.phase = .reading
                return probe.readable ? read(&probe) : nil
            }
            probe.phase = .sending(written: 0)
            return advance(&probe, readable: false)
        case .sending:
            if let failure = write(&probe) { return failure }
            guard case .reading = probe.phase else { return nil }
            guard probe.matcher != nil else { return .passed }  // no answer awaited: written is passed
            return probe.readable ? read(&probe) : nil
        case .reading:
            guard probe.matcher != nil else { return .passed }
            return probe.readable ? read(&probe) : nil
        case .datagram:
            return probe.readable ? receive(&probe) : nil
        }
    }

    /// Writes what is left of the request; the failure, if any. Moves a stream probe to `.reading` when done.
    private func write(_ probe: inout Probe) -> HealthCheckResult? {
        var written = 0
        if case .sending(let done) = probe.phase { written = done }
        while written < probe.send.count {
            let count = probe.send.withUnsafeBytes { bytes in
                Glibc.send(probe.fd, bytes.baseAddress! + written, bytes.count - written, Int32(MSG_NOSIGNAL))
            }
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    probe.phase = .sending(written: written)
                    return nil
                }
                if errno == EINTR { continue }
                return Self.failure(call: "send", errno: errno)
            }
            written += count
        }
        if case .sending = probe.phase { probe.phase = .reading }
        return nil
    }

    /// Reads the answer until a verdict, the end of the stream or `EAGAIN`.
    private func read(_ probe: inout Probe) -> HealthCheckResult? {
        probe.readable = false
        guard let matcher = probe.matcher else { return .passed }
        while true {
            let room = probe.wanted - probe.received.count
            let count = recv(probe.fd, scratch.baseAddress, max(1, min(room, scratch.count)), 0)
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
                if errno == EINTR { continue }
                return Self.failure(call: "recv", errno: errno)
            }
            if count == 0 {
                // The server closed: judge what came.
                switch matcher.judge(probe.received, complete: true) {
                case .match: return .passed
                case .mismatch, .needMore:
                    let excerpt = HealthCheckFailure.excerpt(probe.received)
                    return .failed(
                        matcher.isCutOff(probe.received)
                            ? .closedBeforeAnswer(received: excerpt) : .unexpectedAnswer(excerpt))
                }
            }
            let chunk = UnsafeRawBufferPointer(rebasing: scratch[..<min(count, max(room, 0))])
            if probe.received.isEmpty, chunk.count >= probe.wanted {
                // The usual case: the whole answer that matters in one read, judged where it lies.
                switch matcher.judge(chunk, complete: true) {
                case .match: return .passed
                case .mismatch, .needMore: return .failed(.unexpectedAnswer(HealthCheckFailure.excerpt(chunk)))
                }
            }
            probe.received.append(contentsOf: chunk)
            switch matcher.judge(probe.received, complete: probe.received.count >= probe.wanted) {
            case .match: return .passed
            case .mismatch: return .failed(.unexpectedAnswer(HealthCheckFailure.excerpt(probe.received)))
            case .needMore: continue
            }
        }
    }

    /// Judges the first datagram that came back (an ICMP error on the connected socket fails the check).
    private func receive(_ probe: inout Probe) -> HealthCheckResult? {
        probe.readable = false
        while true {
            let count = recv(probe.fd, scratch.baseAddress, scratch.count, 0)
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
                if errno == EINTR { continue }
                return Self.failure(call: "recv", errno: errno)
            }
            let answer = Array(UnsafeRawBufferPointer(rebasing: scratch[..<count]))
            return probe.matcher?.judge(answer, complete: true) == .match
                ? .passed : .failed(.unexpectedAnswer(HealthCheckFailure.excerpt(answer)))
        }
    }

    // MARK: ending

    private func expire(now: NIODeadline) {
        var earliest = NIODeadline.distantFuture
        for index in slots.indices {
            guard let probe = slots[index] else { continue }
            if probe.deadline <= now {
                release(index, recycle: false)
                ready.append(ProbeResult(token: probe.token, result: .failed(.timeout)))
            } else if probe.deadline < earliest {
                earliest = probe.deadline
            }
        }
        earliestDeadline = earliest
    }

    /// Ends the probe in `index`: its socket goes back to the pool (`recycle`, for a stream when there is room and
    /// the kernel dissolves the connection; it stays in the epoll set) or is closed (its epoll registration goes with
    /// it); the slot is freed.
    private func release(_ index: Int, recycle: Bool) {
        guard let probe = slots[index] else { return }
        let isStream = if case .datagram = probe.phase { false } else { true }
        if recycle, isStream, idleCount < Self.maximumIdleSockets, dissolve(probe.fd) {
            idleSockets[probe.kind, default: []].append(probe.fd)
            idleCount += 1
        } else {
            close(probe.fd)
        }
        slots[index] = nil
        inFlight -= 1
        if inFlight == 0 { earliestDeadline = .distantFuture }
    }

    /// `connect(AF_UNSPEC)`: the kernel drops the connection (a reset, as a close with unread data sends) and
    /// returns the socket to its unconnected state, ready for another `connect`.
    private func dissolve(_ fd: Int32) -> Bool {
        var unspecified = sockaddr()
        unspecified.sa_family = sa_family_t(AF_UNSPEC)
        return Glibc.connect(fd, &unspecified, socklen_t(MemoryLayout<sockaddr>.size)) == 0
    }

    /// A probe that ends before it was registered.
    private func finish(_ probe: Probe, _ result: HealthCheckResult) {
        if probe.fd >= 0 { close(probe.fd) }
        ready.append(ProbeResult(token: probe.token, result: result))
    }

    /// The result of a system call failing with `code`: inconclusive for a local error (out of descriptors,
    /// buffers, memory: see ``LocalCheckError``), else a failure of the server.
    static func failure(call: String, errno code: Int32) -> HealthCheckResult {
        if let local = LocalCheckError.classify(call: call, errno: code) { return .inconclusive(local) }
        if code == ETIMEDOUT { return .failed(.timeout) }
        return .failed(.connectionFailed(String(cString: strerror(code))))
    }
}

/// Results of `send_program` checks, handed from the pool threads that ran them to the polling thread.
final class ProgramResults: Sendable {
    private let results = Mutex<[ProbeResult]>([])

    func append(_ result: ProbeResult) { results.withLock { $0.append(result) } }

    func take() -> [ProbeResult] {
        results.withLock { results in
            defer { results.removeAll() }
            return results
        }
    }
}
