import Addressing

/// The kernel table printed exactly as `ipvsadm -Ln`, `ipvsadm -Ln --stats` and `ipvsadm -Ln --rate` print it
/// (ipvsadm 1.31: same title lines, columns, widths, number abbreviations and sort order), so operators' scripts
/// that read ipvsadm's output read ours.
public struct IPVSListing: Sendable {
    public enum Format: Sendable {
        case connections
        case statistics
        case rates
    }

    public var format: Format

    public init(format: Format = .connections) { self.format = format }

    public func render(info: IPVSInfo, table: IPVSTable) -> String {
        var out = "IP Virtual Server version \(info.versionString) (size=\(info.connectionTableSize))\n"
        switch format {
        case .connections:
            out += "Prot LocalAddress:Port Scheduler Flags\n"
            out += "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
        case .statistics:
            out += pad("Prot LocalAddress:Port", 33) + " " + ["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"].map { leftPad($0, 8) }.joined(separator: " ") + "\n"
            out += "  -> RemoteAddress:Port\n"
        case .rates:
            out += pad("Prot LocalAddress:Port", 33) + " " + ["CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"].map { leftPad($0, 8) }.joined(separator: " ") + "\n"
            out += "  -> RemoteAddress:Port\n"
        }
        for service in table.services.sorted(by: Self.ipvsadmOrder) {
            out += serviceLine(service)
            for destination in service.destinations.sorted(by: Self.ipvsadmOrder) {
                out += destinationLine(destination, in: service)
            }
        }
        return out
    }

    private func serviceLine(_ service: VirtualService) -> String {
        let name: String
        switch service.key {
        case .firewallMark(let mark, let family):
            name = family == .ipv6 ? "FWM  \(mark) IPv6" : "FWM  \(mark)"
        case .address(let proto, let address, let port):
            let full = pad(proto.description, 4) + " " + address.withPort(port)
            name = address.family == .ipv4 ? String(full.prefix(33)) : full
        }
        let stats = service.statistics ?? IPVSStatistics()
        switch format {
        case .connections:
            var line = "\(name) \(service.scheduler)"
            if !service.schedulerFlags.isEmpty { line += " (\(schedulerFlagNames(service)))" }
            if let persistence = service.persistence {
                line += " persistent \(persistence.timeout)"
                if service.key.family == .ipv4, persistence.netmask != 0xffff_ffff {
                    line += " mask \(IPAddress(ipv4: persistence.netmask))"
                } else if service.key.family == .ipv6, persistence.netmask != 128 {
                    line += " mask \(persistence.netmask)"
                }
            }
            if service.onePacket { line += " ops" }
            return line + "\n"
        case .statistics:
            return pad(name, 33) + [stats.connections, stats.inPackets, stats.outPackets, stats.inBytes, stats.outBytes].map(Self.largeNumber).joined() + "\n"
        case .rates:
            return pad(name, 33) + [stats.connectionsPerSecond, stats.inPacketsPerSecond, stats.outPacketsPerSecond, stats.inBytesPerSecond, stats.outBytesPerSecond].map(Self.largeNumber).joined() + "\n"
        }
    }

    private func destinationLine(_ destination: Destination, in service: VirtualService) -> String {
        var name = destination.address.withPort(destination.port)
        if destination.address.family == .ipv4 { name = String(name.prefix(28)) }
        let stats = destination.statistics ?? IPVSStatistics()
        switch format {
        case .connections:
            return "  -> " + pad(name, 28) + " " + pad(destination.forwarding.ipvsadmName, 7) + " " + pad(String(destination.weight), 6)
                + " " + pad(String(destination.activeConnections), 10) + " " + pad(String(destination.inactiveConnections), 10) + "\n"
        case .statistics:
            return "  -> " + pad(name, 28) + [stats.connections, stats.inPackets, stats.outPackets, stats.inBytes, stats.outBytes].map(Self.largeNumber).joined() + "\n"
        case .rates:
            return "  -> " + pad(name, 28) + " " + [stats.connectionsPerSecond, stats.inPacketsPerSecond, stats.outPacketsPerSecond].map { leftPad(String($0), 8) }.joined(separator: " ")
                + Self.largeNumber(stats.inBytesPerSecond) + Self.largeNumber(stats.outBytesPerSecond) + "\n"
        }
    }

    private func schedulerFlagNames(_ service: VirtualService) -> String {
        let flags = service.schedulerFlags
        var names: [String] = []
        switch service.scheduler.rawValue {
        case "sh", "mh":
            if flags.contains(.fallback) { names.append("\(service.scheduler)-fallback") }
            if flags.contains(.port) { names.append("\(service.scheduler)-port") }
        default:
            if flags.contains(.flag1) { names.append("flag-1") }
            if flags.contains(.flag2) { names.append("flag-2") }
            if flags.contains(.flag3) { names.append("flag-3") }
        }
        return names.joined(separator: ",")
    }

    /// ipvsadm's print_largenum: 9 columns, abbreviated with K/M/G/T past 100 million.
    static func largeNumber(_ value: UInt64) -> String {
        switch value {
        case ..<100_000_000: leftPad(String(value), 9)
        case ..<1_000_000_000: leftPad(String(value / 1000), 8) + "K"
        case ..<100_000_000_000: leftPad(String(value / 1_000_000), 8) + "M"
        case ..<100_000_000_000_000: leftPad(String(value / 1_000_000_000), 8) + "G"
        default: leftPad(String(value / 1_000_000_000_000), 8) + "T"
        }
    }

    /// libipvs' sort: fwmark, family, protocol, address, port; the comparisons subtract as C ints do.
    static func ipvsadmOrder(_ a: VirtualService, _ b: VirtualService) -> Bool {
        func parts(_ s: VirtualService) -> (mark: UInt32, family: UInt16, proto: UInt16, address: [UInt8], port: UInt16) {
            switch s.key {
            case .firewallMark(let mark, let family): (mark, family.addressFamily, 0, [UInt8](repeating: 0, count: family == .ipv4 ? 4 : 16), 0)
            case .address(let proto, let address, let port): (0, address.family.addressFamily, proto.rawValue, address.bytes, port)
            }
        }
        let x = parts(a), y = parts(b)
        var r = Int32(truncatingIfNeeded: Int64(x.mark) - Int64(y.mark))
        if r == 0 { r = Int32(x.family) - Int32(y.family) }
        if r == 0 { r = Int32(x.proto) - Int32(y.proto) }
        if r == 0 { r = addressDifference(x.address, y.address) }
        if r == 0 { r = Int32(x.port) - Int32(y.port) }
        return r < 0
    }

    static func ipvsadmOrder(_ a: Destination, _ b: Destination) -> Bool {
        var r = addressDifference(a.address.bytes, b.address.bytes)
        if r == 0 { r = Int32(a.port) - Int32(b.port) }
        return r < 0
    }

    /// `ntohl(a) - ntohl(b)` per 32-bit word, as an int: wraps like libipvs does for far-apart addresses.
    private static func addressDifference(_ a: [UInt8], _ b: [UInt8]) -> Int32 {
        guard a.count == b.count else { return Int32(a.count) - Int32(b.count) }
        var index = 0
        while index + 4 <= a.count {
            let x = a[index..<index + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let y = b[index..<index + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let r = Int32(bitPattern: x &- y)
            if r != 0 { return r }
            index += 4
        }
        return 0
    }
}

private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

private func leftPad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}
