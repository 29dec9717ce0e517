import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The admission rules of one listener (the status/metrics HTTP server, the control socket): at most `limit`
/// connections open at once, a connection must deliver its request within `readTimeout`, and none lives longer
/// than `lifetime`. A connection over the cap is closed at once (accepted first, so the kernel's queue does not
/// fill up with it); one that dawdles is closed at its deadline. So idle or slow clients (slowloris) hold at most
/// `limit` descriptors for at most a few seconds each, and the descriptors the director needs for health checks,
/// heartbeats and netlink stay free (``DescriptorBudget``).
///
/// Refusals and timeouts are counted and logged at most once per `logInterval`, with counts.
public final class ConnectionGate: Sendable {
    /// Counters for metrics.
    public struct Statistics: Sendable, Hashable {
        public var open = 0
        public var accepted = 0
        public var refused = 0
        public var timedOut = 0
    }

    public let name: String
    public let limit: Int
    public let readTimeout: TimeAmount
    public let lifetime: TimeAmount
    static let logInterval = TimeAmount.seconds(10)

    private struct State {
        var statistics = Statistics()
        var unloggedRefused = 0
        var unloggedTimedOut = 0
        var lastLogged: NIODeadline?
    }

    private let state = NIOLockedValueBox(State())
    private let logger: Logger

    public init(name: String, limit: Int, readTimeout: TimeAmount, lifetime: TimeAmount, logger: Logger) {
        precondition(limit >= 1 && readTimeout <= lifetime)
        self.name = name
        self.limit = limit
        self.readTimeout = readTimeout
        self.lifetime = lifetime
        self.logger = logger
    }

    public var statistics: Statistics { state.withLockedValue { $0.statistics } }

    /// Admits `channel` (call it in the child channel initializer, on the channel's loop): nil when over the cap
    /// (the channel is being closed), else its read deadline, to cancel once the request has arrived.
    func admit(_ channel: any Channel) -> ReadDeadline? {
        let admitted = state.withLockedValue { state in
            guard state.statistics.open < limit else {
                state.statistics.refused += 1
                state.unloggedRefused += 1
                return false
            }
            state.statistics.open += 1
            state.statistics.accepted += 1
            return true
        }
        guard admitted else {
            logIfDue()
            // After the initializer: the channel is registered by then.
            channel.eventLoop.execute { channel.close(promise: nil) }
            return nil
        }
        let read = channel.eventLoop.scheduleTask(in: readTimeout) { [self] in timedOut(channel) }
        let whole = channel.eventLoop.scheduleTask(in: lifetime) { [self] in timedOut(channel) }
        channel.closeFuture.whenComplete { [self] _ in
            read.cancel()
            whole.cancel()
            state.withLockedValue { $0.statistics.open -= 1 }
        }
        return ReadDeadline(scheduled: read)
    }

    private func timedOut(_ channel: any Channel) {
        state.withLockedValue {
            $0.statistics.timedOut += 1
            $0.unloggedTimedOut += 1
        }
        channel.close(promise: nil)
        logIfDue()
    }

    private func logIfDue() {
        let now = NIODeadline.now()
        let line: String? = state.withLockedValue { state in
            if let last = state.lastLogged, now - last < Self.logInterval { return nil }
            guard state.unloggedRefused + state.unloggedTimedOut > 0 else { return nil }
            defer {
                state.lastLogged = now
                state.unloggedRefused = 0
                state.unloggedTimedOut = 0
            }
            return "\(name): \(state.unloggedRefused) connection(s) refused (at most \(limit) open), "
                + "\(state.unloggedTimedOut) closed for taking longer than \(readTimeout.nanoseconds / 1_000_000_000) s "
                + "to send a request or \(lifetime.nanoseconds / 1_000_000_000) s in all"
        }
        if let line { logger.warning("\(line)") }
    }

    /// A connection's read deadline.
    struct ReadDeadline: Sendable {
        let scheduled: Scheduled<Void>
        /// The request arrived: only the lifetime limit is left.
        func cancel() { scheduled.cancel() }
    }
}

/// A connection the gate admitted, with its read deadline.
struct AdmittedConnection<Inbound: Sendable, Outbound: Sendable>: Sendable {
    var channel: NIOAsyncChannel<Inbound, Outbound>
    var readDeadline: ConnectionGate.ReadDeadline
}
