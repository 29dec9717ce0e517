/// lvs.cf `monitor_links`: polls the state of this director's interfaces (heartbeat and virtual address devices).
public struct LinkMonitor: Sendable {
    public let devices: [String]
    public let interval: Duration
    private let netlink: RouteNetlink

    public init(devices: [String], interval: Duration = .seconds(1), netlink: RouteNetlink) {
        self.devices = Array(Set(devices)).sorted()
        self.interval = interval
        self.netlink = netlink
    }

    /// Whether every device exists and is up with carrier.
    public func allUp() async -> Bool {
        for device in devices {
            guard let info = try? await netlink.interface(named: device), info.isUp else { return false }
        }
        return true
    }

    /// Reports the links' state to `service` at once and on every change, until cancelled.
    public func run<C>(reportingTo service: ClockedHeartbeatService<C>) async {
        var last: Bool?
        while !Task.isCancelled {
            let up = await allUp()
            if up != last {
                await service.localLinksChanged(up: up)
                last = up
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}
