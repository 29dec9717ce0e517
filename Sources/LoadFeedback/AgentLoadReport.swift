#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// The answer of h2e-agent's `GET /load.json`.
///
/// ```json
/// {"server":"web1","time":1700000000,"age":12,"stale":false,"load":0.42,
///  "metrics":{"load1":1.68,"load5":1.2,"load15":1.1,"cpus":4,"cpu_util":0.4,"mem_used":1.0e9,
///             "mem_available":3.0e9,"tcp_established":120,"busy_workers":null}}
/// ```
/// `load` is the 1-minute load average divided by the CPU count, from the cron job's sample. A newer agent adds
/// `live` (see ``Live``, contract in docs/weights.md): the share of this server's capacity used over a short
/// window, computed when asked; when it is there and not null, the director weighs by it instead. Fields not listed
/// are ignored (a newer agent may add some); `metrics` is carried for display and may be absent.
public struct AgentLoadReport: Sendable, Hashable, Decodable {
    /// The agent's server id (also its `X-SERVER` header).
    public var server: String
    /// Unix time of the sample, in seconds.
    public var time: Double
    /// Seconds since the sample was taken, as the agent saw it when answering.
    public var age: Double
    /// The agent's own verdict that its sample is too old to use.
    public var stale: Bool
    /// 1-minute load average per CPU; null when the agent could not compute it (unknown load average or CPU count).
    public var load: Double?
    public var metrics: Metrics?
    /// The live figure; nil from an old agent, or when the agent cannot compute it yet.
    public var live: Live?

    /// `/load.json`'s `live` member: what share of this server's CPU capacity is used, over a stated window.
    public struct Live: Sendable, Hashable, Decodable {
        /// Share of the capacity used over the window (1 = all of it) plus a saturation term in 0...1 (share of CFS
        /// periods throttled, else PSI cpu some avg10 / 100, else 0): 0...2, above 1 meaning demand beyond capacity.
        public var figure: Double
        /// Seconds the figure covers (shorter right after the agent starts; at least 1).
        public var window: Double
        /// `cgroup` or `host`.
        public var source: String?
        /// The cgroup measured; nil for the host.
        public var cgroup: String?
        /// CPUs available to the server (quota, cpuset or online CPUs, the smallest).
        public var capacity: Double?
        /// CPUs used on average over the window.
        public var usage: Double?
        /// Share of CFS periods throttled in the window; nil without a quota.
        public var throttled: Double?
        public var throttledUsec: Double?
        /// PSI cpu some avg10, percent; nil without PSI.
        public var cpuPressure: Double?
        public var inFlight: Double?

        enum CodingKeys: String, CodingKey {
            case figure, window, source, cgroup, capacity, usage, throttled
            case throttledUsec = "throttled_usec"
            case cpuPressure = "cpu_pressure"
            case inFlight = "in_flight"
        }
    }

    public struct Metrics: Sendable, Hashable, Decodable {
        public var load1: Double?
        public var load5: Double?
        public var load15: Double?
        public var cpus: Int?
        public var cpuUtil: Double?
        public var memUsed: Double?
        public var memAvailable: Double?
        public var tcpEstablished: Double?
        public var busyWorkers: Int?

        enum CodingKeys: String, CodingKey {
            case load1, load5, load15, cpus
            case cpuUtil = "cpu_util"
            case memUsed = "mem_used"
            case memAvailable = "mem_available"
            case tcpEstablished = "tcp_established"
            case busyWorkers = "busy_workers"
        }
    }

    /// Decodes a report, or says what is wrong with the bytes.
    public static func decode(_ bytes: ByteBuffer) -> Result<AgentLoadReport, LoadFailure> {
        do {
            let data = Data(bytes.readableBytesView)
            return .success(try JSONDecoder().decode(AgentLoadReport.self, from: data))
        } catch let error as DecodingError {
            return .failure(.malformed("not an h2e agent load report: \(error.shortDescription)"))
        } catch {
            return .failure(.malformed("not an h2e agent load report: \(error)"))
        }
    }

    /// The reading this report gives when received at `receivedAt`, or a failure when the server id differs from
    /// `expectedServer` or a figure is implausible.
    ///
    /// With ``live``: the live figure, measured at `receivedAt`, as ``LoadSignal/live(window:)`` (the cron sample's
    /// age and stale flag do not concern it). Without: the load average per CPU at `receivedAt - age`, or a failure
    /// when the agent marks the sample stale or its age exceeds `maximumAge` (today's behaviour).
    public func reading(receivedAt: NIODeadline, maximumAge: TimeAmount, expectedServer: String? = nil) -> LoadReading {
        if let expectedServer, expectedServer != server {
            return .failed(.wrongServer(expected: expectedServer, got: server))
        }
        if let live {
            guard live.window.isFinite, live.window > 0, live.window < 1e6 else {
                return .failed(.malformed("live window \(live.window) s"))
            }
            return LoadReading.checked(
                perCPU: live.figure, at: receivedAt, signal: .live(window: .nanoseconds(Int64(live.window * 1e9))))
        }
        guard age.isFinite, age >= 0, age < 1e9 else { return .failed(.malformed("sample age \(age) s")) }
        if stale || age > Double(maximumAge.nanoseconds) / 1e9 { return .failed(.stale(ageSeconds: age)) }
        guard let load else {
            return .failed(.malformed("the agent has no load figure (unknown load average or CPU count)"))
        }
        return LoadReading.checked(perCPU: load, at: receivedAt - .nanoseconds(Int64(age * 1e9)))
    }
}

extension DecodingError {
    /// One line: what was wrong where.
    var shortDescription: String {
        func path(_ context: Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "top level" : keys.joined(separator: ".")
        }
        switch self {
        case .keyNotFound(let key, let context):
            return "missing \"\(key.stringValue)\" at \(path(context))"
        case .typeMismatch(let type, let context):
            return "\(path(context)) is not a \(type)"
        case .valueNotFound(let type, let context):
            return "\(path(context)) is null, expected \(type)"
        case .dataCorrupted(let context):
            return "invalid or truncated JSON at \(path(context))"
        @unknown default:
            return "\(self)"
        }
    }
}

/// The body of an agent's error answer, e.g. `{"server":"web1","error":"no sample yet"}`.
struct AgentErrorAnswer: Decodable {
    var error: String

    static func decode(_ bytes: ByteBuffer) -> Result<AgentErrorAnswer, any Error> {
        Result { try JSONDecoder().decode(AgentErrorAnswer.self, from: Data(bytes.readableBytesView)) }
    }
}
