#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AgentWire
import NIOCore

/// The director's side of `/load.json` (``LoadDocument``, shared with the agent): decoding, and the reading a
/// document gives.
extension LoadDocument {
    /// Decodes a report, or says what is wrong with the bytes.
    public static func decode(_ bytes: ByteBuffer) -> Result<LoadDocument, LoadFailure> {
        do {
            let data = Data(bytes.readableBytesView)
            return .success(try JSONDecoder().decode(LoadDocument.self, from: data))
        } catch let error as DecodingError {
            return .failure(.malformed("not an h2e agent load report: \(error.shortDescription)"))
        } catch {
            return .failure(.malformed("not an h2e agent load report: \(error)"))
        }
    }

    /// The reading this report gives when received at `receivedAt`, or a failure when the server id differs from
    /// `expectedServer` or a figure is implausible.
    ///
    /// With ``live``: the live figure `figure` names, measured at `receivedAt` (the cron sample's age and stale flag
    /// do not concern it): ``AgentFigure/cpu`` as ``LoadSignal/live(window:)``, ``AgentFigure/inFlight`` as
    /// ``LoadSignal/inFlight(window:)`` (`in_flight / capacity`; a failure when the agent counts none), either with
    /// the stated `capacity`. Without:
    /// the load average per CPU at `receivedAt - age`, or a failure when the agent marks the sample stale or its
    /// age exceeds `maximumAge` (today's behaviour; an agent too old for requests in flight is judged by it too).
    public func reading(
        receivedAt: NIODeadline, maximumAge: TimeAmount, expectedServer: String? = nil, figure: AgentFigure = .cpu
    ) -> LoadReading {
        if let expectedServer, expectedServer != server {
            return .failed(.wrongServer(expected: expectedServer, got: server))
        }
        if let live {
            guard live.window.isFinite, live.window > 0, live.window < 1e6 else {
                return .failed(.malformed("live window \(live.window) s"))
            }
            let window = TimeAmount.nanoseconds(Int64(live.window * 1e9))
            switch figure {
            case .cpu:
                return LoadReading.checked(
                    perCPU: live.figure, at: receivedAt, signal: .live(window: window), capacity: live.capacity)
            case .inFlight:
                guard let inFlight = live.inFlight else {
                    return .failed(
                        .malformed("the agent counts no requests in flight: give h2e-agent serve the webserver's --port"))
                }
                guard let capacity = live.capacity, capacity.isFinite, capacity > 0 else {
                    return .failed(.malformed("live capacity \(live.capacity.map { "\($0)" } ?? "null") CPUs"))
                }
                return LoadReading.checked(
                    perCPU: inFlight / capacity, at: receivedAt, signal: .inFlight(window: window), capacity: capacity)
            }
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

extension LoadErrorDocument {
    static func decode(_ bytes: ByteBuffer) -> Result<LoadErrorDocument, any Error> {
        Result { try JSONDecoder().decode(LoadErrorDocument.self, from: Data(bytes.readableBytesView)) }
    }
}
