#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's control socket: a Unix stream socket (default /run/h2e-director.sock, mode 0600, so root only)
/// taking one JSON request line per connection and answering one JSON line (``ControlRequest``,
/// ``ControlResponse``).
///
/// A client may half-close its side after the line (`nc -N`, socat): it still gets its answer. The line must
/// arrive within ``readTimeout``; at most ``ConnectionGate/limit`` connections are open at once.
public struct ControlServer: Service {
    public static let defaultPath = "/run/h2e-director.sock"
    /// Longest request accepted.
    static let maximumRequest = 64 * 1024
    /// The request line must arrive within this long after the connection opens.
    public static let readTimeout = TimeAmount.seconds(5)
    /// A connection is closed this long after it opened, answered or not (the answer waits for the IPVS table on
    /// `override` and `table`; the client gives up after 10 s).
    public static let lifetime = TimeAmount.seconds(30)

    public let path: String
    public let gate: ConnectionGate
    private let operations: DirectorOperations
    private let logger: Logger
    private let group: any EventLoopGroup

    /// - Parameter maximumConnections: connections open at once; more are closed at once.
    public init(
        path: String, operations: DirectorOperations, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, maximumConnections: Int = 16
    ) {
        self.path = path
        self.operations = operations
        self.logger = logger
        self.group = group
        self.gate = ConnectionGate(
            name: "control socket \(path)", limit: maximumConnections, readTimeout: Self.readTimeout,
            lifetime: Self.lifetime, logger: logger)
    }

    typealias Connection = AdmittedConnection<ByteBuffer, ByteBuffer>

    public func run() async throws {
        // Created 0600 (umask 0177 around the bind): no window in which another user could connect before the
        // chmod below, which makes sure of it whatever the umask was.
        let previousMask = umask(0o177)
        let bound: NIOAsyncChannel<Connection?, Never>
        let gate = self.gate
        do {
            bound = try await ServerBootstrap(group: group)
                // The client's half-close (end of its request) must not close our side before the answer.
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { channel in
                    channel.eventLoop.makeCompletedFuture { () -> Connection? in
                        guard let deadline = gate.admit(channel) else { return nil }
                        return Connection(
                            channel: try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel),
                            readDeadline: deadline)
                    }
                }
            umask(previousMask)
        } catch {
            umask(previousMask)
            throw error
        }
        let server = bound
        guard chmod(path, 0o600) == 0 else {
            try? await server.channel.close()
            throw ControlServerError.permissions(path, String(cString: strerror(errno)))
        }
        logger.info("control socket listening on \(path)")
        let operations = self.operations
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        guard let connection else { continue }
                        group.addTask { await Self.serve(connection, operations: operations) }
                    }
                }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
        }
        unlink(path)
    }

    private static func serve(_ connection: Connection, operations: DirectorOperations) async {
        try? await connection.channel.executeThenClose { inbound, outbound in
            var request = ByteBuffer()
            // Until the line, the client's end of file (a half-close after the line without its newline also
            // counts as the end of the request), or too much.
            for try await var chunk in inbound {
                request.writeBuffer(&chunk)
                if request.readableBytesView.contains(0x0A) || request.readableBytes > maximumRequest { break }
            }
            connection.readDeadline.cancel()
            guard request.readableBytes > 0 else { return }
            let response = await answer(request, operations: operations)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var bytes = (try? encoder.encode(response)).map(Array.init) ?? Array(#"{"ok":false}"#.utf8)
            bytes.append(0x0A)
            try await outbound.write(ByteBuffer(bytes: bytes))
        }
    }

    static func answer(_ buffer: ByteBuffer, operations: DirectorOperations) async -> ControlResponse {
        guard buffer.readableBytes <= maximumRequest else {
            return ControlResponse(ok: false, error: "\(ControlError.badRequest("longer than \(maximumRequest) bytes"))")
        }
        let line = buffer.readableBytesView.prefix { $0 != 0x0A }
        let request: ControlRequest
        do {
            request = try JSONDecoder().decode(ControlRequest.self, from: Data(line))
        } catch {
            return ControlResponse(ok: false, error: "\(ControlError.badRequest("not a control request: \(error)"))")
        }
        switch request.command {
        case .status:
            return ControlResponse(ok: true, status: await operations.status(peers: true))
        case .table:
            do {
                return ControlResponse(ok: true, table: try await operations.kernelTable())
            } catch {
                return ControlResponse(ok: false, error: "reading the IPVS table: \(error)")
            }
        case .reload:
            if let refusal = await operations.reload() {
                return ControlResponse(ok: false, error: "reload refused, the running configuration stays: \(refusal)")
            }
            return ControlResponse(ok: true, message: "reloaded")
        case .drainDirector, .resumeDirector:
            do {
                return ControlResponse(ok: true, message: try await operations.drainDirector(request.command == .drainDirector))
            } catch {
                return ControlResponse(ok: false, error: "\(error)")
            }
        case .override:
            guard let action = request.action, let virtual = request.virtual, let address = request.address else {
                return ControlResponse(ok: false, error: "\(ControlError.badRequest("override needs action, virtual and address"))")
            }
            do {
                let message = try await operations.override(action, virtual: virtual, address: address)
                return ControlResponse(ok: true, message: message)
            } catch {
                return ControlResponse(ok: false, error: "\(error)")
            }
        }
    }
}

/// Why the control socket could not be set up.
public enum ControlServerError: Error, Sendable, Hashable, CustomStringConvertible {
    case permissions(String, String)

    public var description: String {
        switch self {
        case .permissions(let path, let why): "cannot make \(path) private (mode 0600): \(why)"
        }
    }
}
