import IPVS
import LVSConfig

/// The desired table kept service by service: an input marks the service it touched, and ``refresh(from:)`` maps
/// those services alone (``DesiredTableMapper/mapService(_:_:from:)``) and puts them in place. Each service remembers
/// the ``DirectorModel/tableGeneration`` it last moved at, so the reconcile loop diffs the services that moved since
/// the kernel got the table, not all of them (``servicesChanged(since:)``).
///
/// With 300 virtual servers of 100 real servers, a server going down costs the mapping of its 100 and the diff of
/// its one service, not the mapping and diff of 30,000.
struct DesiredTableCache: Sendable {
    /// Where one service sits, and its virtual servers that serve as of its last mapping.
    private struct Slot: Sendable {
        var index: Int
        var virtuals: [VirtualServer]
        var serving: Set<String> = []
        var movedAt: Int
    }

    /// The IPVS table as of the last ``refresh(from:)``. The servers' plans and reasons are not kept: `status` maps
    /// them when asked (``DirectorModel/desired``), and keeping them would cost memory for every server.
    private(set) var table = IPVSTable()
    /// ``DesiredTable/servingVirtuals`` as of the last refresh.
    private(set) var servingVirtuals: Set<String> = []
    private var slots: [ServiceKey: Slot] = [:]
    private var serviceOfVirtual: [String: ServiceKey] = [:]
    private var dirty: Set<ServiceKey> = []
    /// The generation of the last ``rebuild(_:generation:)``: every service moved then.
    private(set) var rebuiltAt: Int
    /// Real servers mapped since the director started: what a test checks an input's cost with.
    private(set) var serversMapped = 0

    init(_ configuration: LVSConfiguration, generation: Int) {
        rebuiltAt = generation
        rebuild(configuration, generation: generation)
    }

    /// A new configuration: every service is laid out again and mapped at the next refresh.
    mutating func rebuild(_ configuration: LVSConfiguration, generation: Int) {
        rebuiltAt = generation
        table = IPVSTable()
        servingVirtuals = []
        slots = [:]
        serviceOfVirtual = [:]
        guard configuration.global.service == .lvs else {
            dirty = []
            return
        }
        for (index, group) in DesiredTableMapper.serviceGroups(configuration.virtualServers).enumerated() {
            slots[group.key] = Slot(index: index, virtuals: group.virtuals, movedAt: generation)
            for virtual in group.virtuals { serviceOfVirtual[virtual.name] = group.key }
            // A placeholder until the first refresh maps it.
            table.services.append(VirtualService(key: group.key))
        }
        dirty = Set(slots.keys)
    }

    /// An input moved the servers of virtual server `name` (nothing if it is not in the table).
    mutating func invalidate(virtual name: String, generation: Int) {
        guard let key = serviceOfVirtual[name] else { return }
        invalidate(service: key, generation: generation)
    }

    /// An input moved service `key` (a retiring server's drain ended).
    mutating func invalidate(service key: ServiceKey, generation: Int) {
        guard slots[key] != nil else { return }
        slots[key]?.movedAt = generation
        dirty.insert(key)
    }

    /// Maps the services marked since the last refresh and puts them in the table.
    mutating func refresh(from source: some DesiredTableSource) {
        guard !dirty.isEmpty else { return }
        for key in dirty {
            guard var slot = slots[key] else { continue }
            let mapped = DesiredTableMapper.mapService(key, slot.virtuals, from: source)
            serversMapped += mapped.servers.count
            servingVirtuals.subtract(slot.serving)
            servingVirtuals.formUnion(mapped.servingVirtuals)
            table.services[slot.index] = mapped.service
            slot.serving = mapped.servingVirtuals
            slots[key] = slot
        }
        dirty = []
    }

    /// The services that moved after `generation`; nil when the configuration was replaced since (all of them).
    func servicesChanged(since generation: Int) -> Set<ServiceKey>? {
        guard rebuiltAt <= generation else { return nil }
        return Set(slots.lazy.filter { $0.value.movedAt > generation }.map(\.key))
    }
}
