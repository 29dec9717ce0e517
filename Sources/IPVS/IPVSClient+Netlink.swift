import Addressing
import CNetlink

// Encoding and decoding of the IPVS generic-netlink attributes (include/uapi/linux/ip_vs.h).

extension MessageBuilder {
    /// The nested IPVS_CMD_ATTR_SERVICE that identifies a service (and, with `full`, sets its settings).
    func putServiceKey(_ key: ServiceKey) throws {
        try nest(Int32(IPVS_CMD_ATTR_SERVICE)) { try putKeyAttributes(key) }
    }

    func putService(_ service: VirtualService, full: Bool) throws {
        try nest(Int32(IPVS_CMD_ATTR_SERVICE)) {
            try putKeyAttributes(service.key)
            guard full else { return }
            try put(Int32(IPVS_SVC_ATTR_SCHED_NAME), string: service.scheduler.rawValue)
            // struct ip_vs_flags { __u32 flags; __u32 mask; }: set every bit we manage.
            let flags = service.kernelFlags
            let mask: UInt32 = 0x0001 | 0x0004 | 0x0008 | 0x0010 | 0x0020
            try put(Int32(IPVS_SVC_ATTR_FLAGS), bytes: Self.littleEndianOrHost(flags) + Self.littleEndianOrHost(mask))
            let persistence = service.persistence ?? .perClient(timeout: 0, family: service.key.family)
            try put(Int32(IPVS_SVC_ATTR_TIMEOUT), u32: persistence.timeout)
            // IPv4 netmasks travel in network byte order, IPv6 prefixes as plain numbers.
            try put(Int32(IPVS_SVC_ATTR_NETMASK), u32: service.key.family == .ipv4 ? persistence.netmask.bigEndian : persistence.netmask)
        }
    }

    private func putKeyAttributes(_ key: ServiceKey) throws {
        try put(Int32(IPVS_SVC_ATTR_AF), u16: key.family.addressFamily)
        switch key {
        case .address(let proto, let address, let port):
            try put(Int32(IPVS_SVC_ATTR_PROTOCOL), u16: proto.rawValue)
            try put(Int32(IPVS_SVC_ATTR_ADDR), bytes: address.bytes)
            try put(Int32(IPVS_SVC_ATTR_PORT), u16: port.bigEndian)
        case .firewallMark(let mark, _):
            try put(Int32(IPVS_SVC_ATTR_FWMARK), u32: mark)
        }
    }

    func putDestination(_ destination: Destination, serviceFamily: IPAddress.Family) throws {
        try nest(Int32(IPVS_CMD_ATTR_DEST)) {
            try put(Int32(IPVS_DEST_ATTR_ADDR), bytes: destination.address.bytes)
            try put(Int32(IPVS_DEST_ATTR_PORT), u16: destination.port.bigEndian)
            try put(Int32(IPVS_DEST_ATTR_FWD_METHOD), u32: destination.forwarding.rawValue)
            try put(Int32(IPVS_DEST_ATTR_WEIGHT), u32: UInt32(destination.weight))
            try put(Int32(IPVS_DEST_ATTR_U_THRESH), u32: destination.upperThreshold)
            try put(Int32(IPVS_DEST_ATTR_L_THRESH), u32: destination.lowerThreshold)
            try put(Int32(IPVS_DEST_ATTR_ADDR_FAMILY), u16: destination.address.family.addressFamily)
        }
    }

    private static func littleEndianOrHost(_ value: UInt32) -> [UInt8] {
        withUnsafeBytes(of: value) { Array($0) }  // host order, as the kernel reads the struct
    }
}

extension VirtualService {
    init(netlink a: Attributes) throws {
        guard let rawFamily = a.u16(Int32(IPVS_SVC_ATTR_AF)), let family = IPAddress.Family(addressFamily: rawFamily) else {
            throw IPVSError.invalid("kernel reported a service of an unknown address family")
        }
        let key: ServiceKey
        if let mark = a.u32(Int32(IPVS_SVC_ATTR_FWMARK)), mark != 0 {
            key = .firewallMark(mark, family: family)
        } else {
            guard let rawProto = a.u16(Int32(IPVS_SVC_ATTR_PROTOCOL)), let proto = IPVSProtocol(rawValue: rawProto),
                let bytes = a.bytes(Int32(IPVS_SVC_ATTR_ADDR)), let port = a.u16(Int32(IPVS_SVC_ATTR_PORT)),
                let address = IPAddress(bytes: Array(bytes.prefix(family == .ipv4 ? 4 : 16)))
            else { throw IPVSError.invalid("kernel reported a service without protocol, address or port") }
            key = .address(proto, address, port: UInt16(bigEndian: port))
        }
        var flags: UInt32 = 0
        if let raw = a.bytes(Int32(IPVS_SVC_ATTR_FLAGS)), raw.count >= 4 {
            flags = raw.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        }
        var persistence: Persistence?
        if flags & 0x0001 != 0 {
            let netmask = a.u32(Int32(IPVS_SVC_ATTR_NETMASK)) ?? 0
            persistence = Persistence(
                timeout: a.u32(Int32(IPVS_SVC_ATTR_TIMEOUT)) ?? 0,
                netmask: family == .ipv4 ? UInt32(bigEndian: netmask) : netmask)
        }
        self.init(
            key: key, scheduler: Scheduler(rawValue: a.string(Int32(IPVS_SVC_ATTR_SCHED_NAME)) ?? ""),
            persistence: persistence, onePacket: flags & 0x0004 != 0,
            schedulerFlags: SchedulerFlags(rawValue: flags & 0x0038))
        self.statistics = try IPVSStatistics(netlink: a, stats64: Int32(IPVS_SVC_ATTR_STATS64), stats: Int32(IPVS_SVC_ATTR_STATS))
    }
}

extension Destination {
    init(netlink a: Attributes, serviceFamily: IPAddress.Family) throws {
        let family = a.u16(Int32(IPVS_DEST_ATTR_ADDR_FAMILY)).flatMap(IPAddress.Family.init(addressFamily:)) ?? serviceFamily
        guard let bytes = a.bytes(Int32(IPVS_DEST_ATTR_ADDR)), let port = a.u16(Int32(IPVS_DEST_ATTR_PORT)),
            let address = IPAddress(bytes: Array(bytes.prefix(family == .ipv4 ? 4 : 16)))
        else { throw IPVSError.invalid("kernel reported a destination without address or port") }
        let forwarding = ForwardingMethod(rawValue: (a.u32(Int32(IPVS_DEST_ATTR_FWD_METHOD)) ?? 0) & 0x7) ?? .masquerade
        self.init(
            address: address, port: UInt16(bigEndian: port), forwarding: forwarding,
            weight: Int(Int32(bitPattern: a.u32(Int32(IPVS_DEST_ATTR_WEIGHT)) ?? 0)),
            upperThreshold: a.u32(Int32(IPVS_DEST_ATTR_U_THRESH)) ?? 0,
            lowerThreshold: a.u32(Int32(IPVS_DEST_ATTR_L_THRESH)) ?? 0)
        activeConnections = a.u32(Int32(IPVS_DEST_ATTR_ACTIVE_CONNS)) ?? 0
        inactiveConnections = a.u32(Int32(IPVS_DEST_ATTR_INACT_CONNS)) ?? 0
        persistentConnections = a.u32(Int32(IPVS_DEST_ATTR_PERSIST_CONNS)) ?? 0
        statistics = try IPVSStatistics(netlink: a, stats64: Int32(IPVS_DEST_ATTR_STATS64), stats: Int32(IPVS_DEST_ATTR_STATS))
    }
}

extension IPVSStatistics {
    /// Reads the 64-bit statistics, falling back to the older 32-bit block on kernels without STATS64.
    init?(netlink a: Attributes, stats64: Int32, stats: Int32) throws {
        if let s = try a.nested(stats64, max: H2E_IPVS_STATS_ATTR_MAX) {
            self.init()
            func v(_ type: Int) -> UInt64 { s.u64(Int32(type)) ?? 0 }
            connections = v(IPVS_STATS_ATTR_CONNS)
            inPackets = v(IPVS_STATS_ATTR_INPKTS)
            outPackets = v(IPVS_STATS_ATTR_OUTPKTS)
            inBytes = v(IPVS_STATS_ATTR_INBYTES)
            outBytes = v(IPVS_STATS_ATTR_OUTBYTES)
            connectionsPerSecond = v(IPVS_STATS_ATTR_CPS)
            inPacketsPerSecond = v(IPVS_STATS_ATTR_INPPS)
            outPacketsPerSecond = v(IPVS_STATS_ATTR_OUTPPS)
            inBytesPerSecond = v(IPVS_STATS_ATTR_INBPS)
            outBytesPerSecond = v(IPVS_STATS_ATTR_OUTBPS)
        } else if let s = try a.nested(stats, max: H2E_IPVS_STATS_ATTR_MAX) {
            self.init()
            func v32(_ type: Int) -> UInt64 { UInt64(s.u32(Int32(type)) ?? 0) }
            func v64(_ type: Int) -> UInt64 { s.u64(Int32(type)) ?? 0 }
            connections = v32(IPVS_STATS_ATTR_CONNS)
            inPackets = v32(IPVS_STATS_ATTR_INPKTS)
            outPackets = v32(IPVS_STATS_ATTR_OUTPKTS)
            inBytes = v64(IPVS_STATS_ATTR_INBYTES)
            outBytes = v64(IPVS_STATS_ATTR_OUTBYTES)
            connectionsPerSecond = v32(IPVS_STATS_ATTR_CPS)
            inPacketsPerSecond = v32(IPVS_STATS_ATTR_INPPS)
            outPacketsPerSecond = v32(IPVS_STATS_ATTR_OUTPPS)
            inBytesPerSecond = v64(IPVS_STATS_ATTR_INBPS)
            outBytesPerSecond = v64(IPVS_STATS_ATTR_OUTBPS)
        } else {
            return nil
        }
    }
}
