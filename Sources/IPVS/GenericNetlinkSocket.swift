import CNetlink

#if canImport(Glibc)
import Glibc
#endif

/// One long-lived libnl generic-netlink socket bound to the IPVS family.
///
/// Not Sendable on purpose: it is owned by exactly one `IPVSClient` actor, which serialises every request.
/// Each request is synchronous: send one message, then receive until the kernel's ACK, error or end of dump.
final class GenericNetlinkSocket {
    private let socket: OpaquePointer
    let familyID: Int32

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
