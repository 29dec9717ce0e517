import CNetlink

#if canImport(Glibc)
import Glibc
#endif

/// One long-lived libnl generic-netlink socket bound to the IPVS family.
///
/// Not Sendable on purpose: it is owned by exactly one `IPVSClient` actor, which serialises every request.
/// A ``request(_:dump:operation:build:onReply:)`` is synchronous: send one message, then receive until the kernel's
/// ACK, error or end of dump. A ``batch(_:)`` sends many messages per datagram and collects their answers together.
final class GenericNetlinkSocket {
    private let socket: OpaquePointer
    let familyID: Int32
    /// Sequence numbers of batched messages, in a range of their own: libnl counts its own requests' numbers and
    /// checks replies against them, and batch answers never pass through libnl.
    private var batchSequence: UInt32 = 0x8000_0000

    /// Connects and resolves the IPVS family; `IPVSError.notAvailable` when the kernel has none.
    init() throws {
        guard let socket = nl_socket_alloc() else {
            throw IPVSError.netlink(operation: "open netlink socket", code: ENOMEM, message: "out of memory")
        }
        self.socket = socket
        var rc = genl_connect(socket)
        guard rc == 0 else {
            nl_socket_free(socket)
            throw IPVSError.netlink(operation: "connect generic netlink", code: rc, message: String(cString: nl_geterror(rc)))
        }
        // libnl opens without close-on-exec: keep the socket out of programs we start (checks, active_cmd).
        _ = fcntl(nl_socket_get_fd(socket), F_SETFD, FD_CLOEXEC)
        rc = genl_ctrl_resolve(socket, IPVS_GENL_NAME)
        guard rc >= 0 else {
            nl_socket_free(socket)
            throw IPVSError.notAvailable
        }
        self.familyID = rc
        // Large dumps (thousands of services) arrive in many datagrams; a bigger buffer means fewer reads.
        _ = nl_socket_set_buffer_size(socket, 4 << 20, 4 << 20)
        nl_socket_set_msg_buf_size(socket, 64 << 10)
        // SO_RCVBUF stops at net.core.rmem_max; with CAP_NET_ADMIN (a director has it) the buffer can be larger, so
        // that a batch whose every message is refused still has room for every error.
        var size: Int32 = 8 << 20
        _ = setsockopt(nl_socket_get_fd(socket), SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { nl_socket_free(socket) }

    /// Builds one IPVS request with `build`, sends it, and calls `onReply` for each reply message.
    /// Throws the kernel's errno mapped through `operation`.
    func request(
        _ command: Int, dump: Bool = false, operation: IPVSOperation,
        build: (OpaquePointer) throws -> Void = { _ in },
        onReply: (Attributes) throws -> Void = { _ in }
    ) throws {
        guard let message = nlmsg_alloc() else {
            throw IPVSError.netlink(operation: operation.description, code: ENOMEM, message: "out of memory")
        }
        defer { nlmsg_free(message) }
        let flags = dump ? NLM_F_DUMP : 0
        guard genlmsg_put(message, UInt32(NL_AUTO_PORT), UInt32(NL_AUTO_SEQ), familyID, 0, flags, UInt8(command), UInt8(IPVS_GENL_VERSION)) != nil else {
            throw IPVSError.netlink(operation: operation.description, code: ENOMEM, message: "message too large")
        }
        try build(message)

        try withoutActuallyEscaping(onReply) { onReply in
            try exchange(message, operation: operation, context: ReplyContext(onReply: onReply))
        }
    }

    /// Most messages in one datagram. Each refused message costs an error answer of about 1 KB of the receive
    /// buffer (an skb each), so a whole datagram of refusals fits even where the buffer stays at rmem_max's default.
    static let batchMessages = 256
    /// Most bytes in one datagram: well inside the send buffer, and one kernel allocation.
    static let batchBytes = 60 << 10

    /// Sends `count` requests in order, many to a datagram, and returns the refused ones by index with the kernel's
    /// errno. Request `i` is command `command(i)` with attributes from `build(i, message)`.
    ///
    /// Within a datagram the kernel handles the messages one after another and carries on after a refused one, so
    /// later messages still take effect. Only the last message of each datagram asks for an ACK: refusals are
    /// answered anyway, and that ACK, queued after them, says the datagram is done. Throws when a datagram cannot
    /// be sent or its answers were lost (``BatchError``, with the indexes whose outcome is unknown).
    func batch(
        count: Int, command: (Int) -> Int, build: (Int, OpaquePointer) throws -> Void
    ) throws -> [(index: Int, errno: Int32)] {
        var refused: [(index: Int, errno: Int32)] = []
        var buffer: [UInt8] = []
        buffer.reserveCapacity(Self.batchBytes + 4_096)
        var answer = [UInt8](repeating: 0, count: 64 << 10)
        var start = 0
        while start < count {
            buffer.removeAll(keepingCapacity: true)
            let base = batchSequence
            var end = start
            var lastHeader = 0
            while end < count, end - start < Self.batchMessages, buffer.count < Self.batchBytes {
                lastHeader = buffer.count
                do {
                    try append(command(end), sequence: base &+ UInt32(end - start), to: &buffer) { message in
                        try build(end, message)
                    }
                } catch {
                    throw BatchError(unknown: start..<count, underlying: error, refused: refused)
                }
                end += 1
            }
            batchSequence = base &+ UInt32(end - start)
            // The last message asks for the ACK that closes the datagram (nlmsg_flags: bytes 6-7 of its header).
            let flags = UInt16(NLM_F_REQUEST | NLM_F_ACK)
            withUnsafeBytes(of: flags) { buffer.replaceSubrange(lastHeader + 6..<lastHeader + 8, with: $0) }
            do {
                try sendAndCollect(buffer, base: base, count: end - start, answer: &answer) { offset, code in
                    refused.append((start + offset, code))
                }
            } catch {
                throw BatchError(unknown: start..<end, underlying: error, refused: refused)
            }
            start = end
        }
        return refused
    }

    /// A batch that stopped: the requests in `unknown` may or may not have taken effect; `refused` were refused
    /// before it stopped.
    struct BatchError: Error {
        var unknown: Range<Int>
        var underlying: any Error
        var refused: [(index: Int, errno: Int32)]
    }

    private func append(
        _ command: Int, sequence: UInt32, to buffer: inout [UInt8], build: (OpaquePointer) throws -> Void
    ) throws {
        guard let message = nlmsg_alloc() else {
            throw IPVSError.netlink(operation: "build request", code: ENOMEM, message: "out of memory")
        }
        defer { nlmsg_free(message) }
        let port = nl_socket_get_local_port(socket)
        guard genlmsg_put(message, port, sequence, familyID, 0, NLM_F_REQUEST, UInt8(command), UInt8(IPVS_GENL_VERSION)) != nil
        else { throw IPVSError.netlink(operation: "build request", code: ENOMEM, message: "message too large") }
        try build(message)
        let header = nlmsg_hdr(message)!
        let length = Int(header.pointee.nlmsg_len)
        buffer.append(contentsOf: UnsafeRawBufferPointer(start: UnsafeRawPointer(header), count: length))
        // Messages in one datagram start on 4-byte boundaries (NLMSG_ALIGN).
        buffer.append(contentsOf: repeatElement(0, count: (4 - length % 4) % 4))
    }

    /// Sends one datagram of `count` messages numbered from `base` and reads answers until the last one's ACK.
    private func sendAndCollect(
        _ datagram: [UInt8], base: UInt32, count: Int, answer: inout [UInt8], refused: (Int, Int32) -> Void
    ) throws {
        let sent = datagram.withUnsafeBytes { nl_sendto(socket, UnsafeMutableRawPointer(mutating: $0.baseAddress), $0.count) }
        guard sent >= 0 else {
            throw IPVSError.netlink(operation: "send a batch of \(count) requests", code: sent, message: String(cString: nl_geterror(sent)))
        }
        let fd = nl_socket_get_fd(socket)
        var done = false
        while !done {
            let received = answer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == ENOBUFS {
                    // Answers were dropped: which ones is unknown. Drop the rest too, so the next request starts
                    // clean, and let the caller re-read the table.
                    while answer.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }) >= 0 {}
                    throw IPVSError.netlink(
                        operation: "read the answers to \(count) requests", code: ENOBUFS,
                        message: "the kernel's answers overflowed the socket's receive buffer")
                }
                throw IPVSError.netlink(
                    operation: "read the answers to \(count) requests", code: code, message: String(cString: strerror(code)))
            }
            answer.withUnsafeBytes { bytes in
                var offset = 0
                // struct nlmsghdr { u32 len; u16 type; u16 flags; u32 seq; u32 pid; }, then for NLMSG_ERROR
                // struct nlmsgerr { s32 error; struct nlmsghdr msg; } whose msg is the request's own header.
                while offset + 16 <= received {
                    let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                    let type = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
                    guard length >= 16, offset + length <= received else { break }
                    if type == UInt16(NLMSG_ERROR), length >= 16 + 4 + 16 {
                        let code = -bytes.loadUnaligned(fromByteOffset: offset + 16, as: Int32.self)
                        let sequence = bytes.loadUnaligned(fromByteOffset: offset + 16 + 4 + 8, as: UInt32.self)
                        let index = Int(sequence &- base)
                        if sequence &- base < UInt32(count) {
                            if code != 0 { refused(index, code) }
                            if index == count - 1 { done = true }
                        }
                    }
                    offset += (length + 3) & ~3
                }
            }
        }
    }

    private func exchange(_ message: OpaquePointer, operation: IPVSOperation, context: ReplyContext) throws {
        let unmanaged = Unmanaged.passRetained(context)
        defer { unmanaged.release() }
        let arg = unmanaged.toOpaque()
        nl_socket_modify_cb(socket, NL_CB_VALID, NL_CB_CUSTOM, { message, arg in
            let context = Unmanaged<ReplyContext>.fromOpaque(arg!).takeUnretainedValue()
            return context.handle(message!)
        }, arg)
        nl_socket_modify_err_cb(socket, NL_CB_CUSTOM, { _, error, arg in
            let context = Unmanaged<ReplyContext>.fromOpaque(arg!).takeUnretainedValue()
            context.kernelErrno = -(error!.pointee.error)
            return Int32(NL_STOP.rawValue)
        }, arg)

        let finish: nl_recvmsg_msg_cb_t = { _, arg in
            Unmanaged<ReplyContext>.fromOpaque(arg!).takeUnretainedValue().finished = true
            return Int32(NL_STOP.rawValue)
        }
        nl_socket_modify_cb(socket, NL_CB_ACK, NL_CB_CUSTOM, finish, arg)
        nl_socket_modify_cb(socket, NL_CB_FINISH, NL_CB_CUSTOM, finish, arg)

        // A reply and the kernel's ACK arrive as separate datagrams, and libnl returns after the first one that is
        // not multipart: read until the ACK (or a dump's DONE, or an error) so nothing is left for the next request.
        var rc = nl_send_auto(socket, message)
        while rc >= 0 && !context.finished && context.kernelErrno == 0 && context.failure == nil {
            rc = nl_recvmsgs_default(socket)
        }
        if let failure = context.failure { throw failure }
        if context.kernelErrno != 0 { throw IPVSError.fromKernel(errno: context.kernelErrno, operation: operation) }
        if rc < 0 {
            throw IPVSError.netlink(operation: operation.description, code: rc, message: String(cString: nl_geterror(rc)))
        }
    }
}

/// Carries the reply handler and the outcome through libnl's C callbacks (which cannot capture).
private final class ReplyContext {
    let onReply: (Attributes) throws -> Void
    var kernelErrno: Int32 = 0
    var finished = false
    var failure: (any Error)?

    init(onReply: @escaping (Attributes) throws -> Void) { self.onReply = onReply }

    func handle(_ message: OpaquePointer) -> Int32 {
        guard failure == nil else { return Int32(NL_SKIP.rawValue) }
        do {
            try onReply(Attributes(message: message))
        } catch {
            failure = error
        }
        return Int32(NL_OK.rawValue)
    }
}

/// The attributes of one generic-netlink message or one nested attribute, by type number.
/// Valid only during the reply callback that produced it.
struct Attributes {
    private var table: [Int32: UnsafeMutablePointer<nlattr>] = [:]

    init(message: OpaquePointer) throws {
        let header = nlmsg_hdr(message)!
        let max = H2E_IPVS_CMD_ATTR_MAX
        var slots = [UnsafeMutablePointer<nlattr>?](repeating: nil, count: Int(max) + 1)
        let rc = genlmsg_parse(header, 0, &slots, max, nil)
        guard rc == 0 else {
            throw IPVSError.netlink(operation: "parse reply", code: rc, message: String(cString: nl_geterror(rc)))
        }
        collect(slots)
    }

    init(nested attribute: UnsafeMutablePointer<nlattr>, max: Int32) throws {
        var slots = [UnsafeMutablePointer<nlattr>?](repeating: nil, count: Int(max) + 1)
        let rc = nla_parse_nested(&slots, max, attribute, nil)
        guard rc == 0 else {
            throw IPVSError.netlink(operation: "parse nested attribute", code: rc, message: String(cString: nl_geterror(rc)))
        }
        collect(slots)
    }

    private mutating func collect(_ slots: [UnsafeMutablePointer<nlattr>?]) {
        for (index, slot) in slots.enumerated() { if let slot { table[Int32(index)] = slot } }
    }

    subscript(_ type: Int32) -> UnsafeMutablePointer<nlattr>? { table[type] }

    func u16(_ type: Int32) -> UInt16? { table[type].map { nla_get_u16($0) } }
    func u32(_ type: Int32) -> UInt32? { table[type].map { nla_get_u32($0) } }
    func u64(_ type: Int32) -> UInt64? { table[type].map { nla_get_u64($0) } }
    func string(_ type: Int32) -> String? { table[type].map { String(cString: nla_get_string($0)) } }
    func bytes(_ type: Int32) -> [UInt8]? {
        table[type].map { attribute in
            let count = Int(nla_len(attribute))
            return Array(UnsafeRawBufferPointer(start: nla_data(attribute), count: count))
        }
    }
    func nested(_ type: Int32, max: Int32) throws -> Attributes? {
        try table[type].map { try Attributes(nested: $0, max: max) }
    }
}

/// Appends attributes to a message under construction.
struct MessageBuilder {
    let message: OpaquePointer

    func put(_ type: Int32, u16 value: UInt16) throws { try check(nla_put_u16(message, type, value)) }
    func put(_ type: Int32, u32 value: UInt32) throws { try check(nla_put_u32(message, type, value)) }
    func put(_ type: Int32, string value: String) throws { try check(nla_put_string(message, type, value)) }
    func put(_ type: Int32, bytes value: [UInt8]) throws {
        try check(value.withUnsafeBytes { nla_put(message, type, Int32($0.count), $0.baseAddress) })
    }
    func nest(_ type: Int32, _ body: () throws -> Void) throws {
        guard let start = nla_nest_start(message, type) else { try check(-NLE_NOMEM) ; return }
        try body()
        try check(nla_nest_end(message, start))
    }

    private func check(_ rc: Int32) throws {
        guard rc >= 0 else {
            throw IPVSError.netlink(operation: "build request", code: rc, message: String(cString: nl_geterror(rc)))
        }
    }
}
