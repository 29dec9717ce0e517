/// The fields virtual servers and failover services share (Piranha parses both blocks with one function), so one
/// parser and one writer path handle them.
protocol CheckedService {
    var name: String { get set }
    var active: Bool { get set }
    /// `address`: required for a failover service, optional for a fwmark virtual server.
    var vip: InterfaceAddress? { get set }
    var vipNetmask: Netmask? { get set }
    var port: UInt16 { get set }
    var `protocol`: TransportProtocol { get set }
    var clientMonitor: String? { get set }
    var send: String? { get set }
    var expect: String? { get set }
    var useRegex: Bool { get set }
    var sendProgram: String? { get set }
    var timeout: Int { get set }
}

extension VirtualServer: CheckedService {
    var vip: InterfaceAddress? {
        get { address }
        set { address = newValue }
    }
}

extension FailoverService: CheckedService {
    var vip: InterfaceAddress? {
        get { address }
        set { if let newValue { address = newValue } }
    }
}
