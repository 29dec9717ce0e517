import AgentWire
import Addressing
import HostSystem
@testable import LVSConfig

/// Random valid configurations: every field, values with every character the writer must quote or escape.
struct ConfigGenerator {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func maybe<T>(_ p: Double = 0.4, _ make: (inout ConfigGenerator) -> T) -> T? {
        chance(p) ? make(&self) : nil
    }
    mutating func pick<T>(_ values: [T]) -> T { values[int(0...values.count - 1)] }

    /// Text with blanks, quotes, backslashes, comment and brace characters, escapes and non-ASCII.
    mutating func text(allowEmpty: Bool = true) -> String {
        let pieces = [
            "a", "Z", "0", "9", "-", "_", ".", "/", " ", "\t", "\"", "'", "\\", "#", "=", "{", "}", "[", "]", "\r",
            "\n", "é", "日", "%h", "GET / HTTP/1.0", "\\r", "x=y", "*",
        ]
        let count = int(allowEmpty ? 0...6 : 1...6)
        return (0..<count).map { _ in pick(pieces) }.joined()
    }

    /// A block name: any text but CR, LF and TAB, which the parser rejects in names.
    mutating func blockName() -> String {
        let cleaned = text(allowEmpty: false).filter { $0 != "\r" && $0 != "\n" && $0 != "\t" && $0 != "\r\n" }
        return cleaned.isEmpty ? "n" : cleaned
    }

    mutating func word() -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        return String((0..<int(1...10)).map { _ in pick(letters) })
    }

    /// An agent's server id: printable ASCII, blanks, quotes and backslashes among it.
    mutating func serverID() -> String {
        let printable = (0x20...0x7E).compactMap { UnicodeScalar($0).map(Character.init) }
        return String((0..<int(1...12)).map { _ in pick(printable) })
    }

    mutating func path() -> String { "/" + (chance(0.3) ? text() : word()) }

    mutating func address(_ family: IPAddress.Family) -> IPAddress {
        switch family {
        case .ipv4:
            return .v4(IPv4Address(rawValue: UInt32.random(in: 1...UInt32.max, using: &rng)))
        case .ipv6:
            // Mostly zero groups, so that "::" compression is exercised.
            let groups = (0..<8).map { _ in chance(0.5) ? 0 : UInt16.random(in: 0...UInt16.max, using: &rng) }
            let address = IPv6Address(groups: groups)
            return address.high == 0 && address.low == 0 ? .v6(IPv6Address(high: 0, low: 1)) : .v6(address)
        }
    }

    mutating func family() -> IPAddress.Family { chance(0.7) ? .ipv4 : .ipv6 }

    mutating func interfaceAddress(_ family: IPAddress.Family) -> InterfaceAddress {
        let devices = ["eth0", "eth1", "ens3", "bond0", "vlan.100", "br-lan", "e"]
        return InterfaceAddress(
            address: address(family), device: pick(devices), alias: maybe(0.6) { "\($0.int(0...99))" })
    }

    mutating func netmask(below bits: Int) -> Netmask { Netmask(prefixLength: int(0...bits)) }

    mutating func global() -> GlobalSettings {
        var g = GlobalSettings()
        if chance(0.3) { g.serialNumber = int(-5...1_000_000) }
        g.primary = maybe { $0.address($0.family()) }
        g.primaryPrivate = maybe { $0.address($0.family()) }
        g.primaryShared = maybe { $0.text() }
        g.backup = maybe { $0.address($0.family()) }
        g.backupActive = chance(0.5)
        g.backupPrivate = maybe { $0.address($0.family()) }
        g.backupShared = maybe { $0.text() }
        g.reservationConflictAction = maybe { $0.pick(ReservationConflictAction.allCases) }
        g.natRouter = maybe { $0.interfaceAddress($0.family()) }
        g.natNetmask = maybe { $0.netmask(below: g.natRouter?.address.family.bitCount ?? 32) }
        g.activeCommand = maybe { $0.text() }
        g.inactiveCommand = maybe { $0.text() }
        g.monitorLinks = chance(0.3)
        if chance(0.3) { g.debugLevel = text() }
        g.hardShutdown = chance(0.7)
        if chance(0.2) { g.ipvsadm = path() }
        if chance(0.3) { g.keepalive = chance(0.5) ? Double(int(1...10)) : Double(int(1...99)) / 100 }
        if chance(0.3) { g.deadtime = chance(0.5) ? Double(int(11...60)) : Double(int(100...999)) / 1000 }
        if chance(0.2) { g.rshCommand = text() }
        g.syncDaemon = chance(0.3)
        if chance(0.3) { g.syncDaemonInterface = pick(["eth1", "bond0", "ens3"]) }
        if chance(0.3) { g.syncDaemonID = int(0...255) }
        if chance(0.3) { g.tcpTimeout = int(0...9000) }
        if chance(0.3) { g.tcpFinTimeout = int(0...9000) }
        if chance(0.3) { g.udpTimeout = int(0...9000) }
        g.heartbeat = chance(0.5)
        if chance(0.3) { g.heartbeatPort = UInt16(int(1...65535)) }
        g.fileSync = chance(0.2)
        g.network = pick(ForwardingMethod.allCases)
        g.service = pick(ServiceType.allCases)
        g.heartbeatAuthentication = pick([.unspecified, .none, .hmacSHA256(keyFile: path())])
        if chance(0.3) { g.agentPort = UInt16(int(1...65535)) }
        if chance(0.3) { g.weightInterval = int(1...3600) }
        if chance(0.3) { g.loadHoldTimeout = int(1...86_400) }
        if chance(0.3) { g.loadSlowStart = int(0...3600) }
        return g
    }

    mutating func shared<S: CheckedService>(_ s: inout S, family: IPAddress.Family) {
        s.active = chance(0.7)
        s.vipNetmask = maybe { $0.netmask(below: family.bitCount) }
        s.port = UInt16(int(1...65535))
        s.protocol = pick(TransportProtocol.allCases)
        s.clientMonitor = maybe(0.2) { $0.path() }
        s.send = maybe { $0.text() }
        s.expect = maybe { $0.text() }
        s.useRegex = chance(0.3)
        s.sendProgram = maybe(0.2) { $0.text() }
        if chance(0.4) { s.timeout = int(1...100) }
    }

    mutating func virtualServer(named name: String) -> VirtualServer {
        let family = family()
        var v = VirtualServer(name: name, address: interfaceAddress(family))
        shared(&v, family: family)
        v.firewallMark = maybe { UInt32($0.int(1...Int(UInt32.max))) }
        v.scheduler = pick(Scheduler.allCases)
        v.persistence = maybe { $0.int(1...86400) }
        if v.persistence != nil || v.firewallMark != nil, chance(0.2) { v.port = 0 }
        v.persistenceNetmask = maybe { $0.netmask(below: family.bitCount - 1) }
        v.sorryServer = maybe { $0.address(family) }
        if chance(0.4) { v.reentry = int(0...600) }
        v.quiesceServer = chance(0.3)
        v.loadMonitor = pick([.none, .h2e(pick(AgentFigure.allCases)), .remote(pick(RemoteLoadCommand.allCases)), .program(path())])
        if chance(0.3) { v.checkInterval = int(1...3600) }
        if chance(0.3) { v.fall = int(1...1000) }
        if chance(0.3) { v.panicThreshold = int(0...100) }
        var destinations = Set<String>()
        for index in 0..<int(0...4) {
            var s = RealServer(name: chance(0.8) ? "rs\(index)" : blockName(), address: address(family))
            s.port = maybe { UInt16($0.int(0...65535)) }
            s.weight = int(0...65535)
            s.active = chance(0.8)
            s.maxWeight = maybe { $0.int(max(1, s.weight)...65535) }
            s.serverID = maybe { $0.serverID() }
            guard destinations.insert("\(s.address) \(v.port(of: s))").inserted else { continue }
            v.realServers.append(s)
        }
        return v
    }

    mutating func failoverService(named name: String) -> FailoverService {
        let family = family()
        var f = FailoverService(name: name, address: interfaceAddress(family))
        shared(&f, family: family)
        f.startCommand = maybe { $0.text() }
        f.stopCommand = maybe { $0.text() }
        f.master = maybe { $0.address($0.family()) }
        f.directories = maybe { g in (0..<g.int(0...3)).map { _ in g.text() } }
        return f
    }

    mutating func configuration() -> LVSConfiguration {
        var c = LVSConfiguration(global: global())
        var services = Set<String>()
        for index in 0..<int(0...3) {
            var v = virtualServer(named: chance(0.7) ? "vs\(index)" : blockName() + "\(index)")
            // KB 114327's farm: a fwmark service whose marked addresses are brought up by other means.
            if v.firewallMark != nil, !v.realServers.isEmpty, v.vipNetmask == nil, chance(0.3) { v.address = nil }
            let key =
                v.firewallMark.map { "fwmark \($0) \(v.family)" }
                ?? "\(v.protocol) \(v.address.map { "\($0.address)" } ?? "") port \(v.port)"
            if v.active, !services.insert(key).inserted { v.active = false }
            c.virtualServers.append(v)
        }
        for index in 0..<int(0...2) {
            c.failoverServices.append(failoverService(named: "fo\(index)"))
        }
        return c
    }
}
