/// From the desired table and the kernel's, the minimal ordered list of changes that makes the kernel match.
///
/// The contract, which the director relies on:
/// - What already matches is adopted untouched: a restart, or a re-run, yields no change (never a flush).
/// - A changed weight, threshold or forwarding method is an in-place edit; a changed scheduler, persistence or flag
///   is an in-place service edit. Nothing is deleted and re-added to change a setting.
/// - Within a service, new destinations go in before old ones come out, so a service that keeps any destination
///   is never left empty; new services go in before unlisted ones are deleted.
/// - Services in the kernel that the desired table does not list are deleted when `removeUnlisted` is true (h2e
///   owns the table of its network namespace, as Piranha's lvsd did); keep them with false.
/// - With `only`, the diff covers those services alone (the caller knows the others match): it costs their
///   destinations, not the table's.
public enum IPVSReconciler {
    public static func changes(
        from current: IPVSTable, to desired: IPVSTable, removeUnlisted: Bool = true, only: Set<ServiceKey>? = nil
    ) -> [IPVSChange] {
        if let only {
            return changes(
                from: IPVSTable(services: current.services.filter { only.contains($0.key) }),
                to: IPVSTable(services: desired.services.filter { only.contains($0.key) }), removeUnlisted: removeUnlisted)
        }
        var additions: [IPVSChange] = []
        var edits: [IPVSChange] = []
        var removals: [IPVSChange] = []
        var currentByKey: [ServiceKey: VirtualService] = [:]
        for service in current.services where currentByKey[service.key] == nil { currentByKey[service.key] = service }

        var seen = Set<ServiceKey>()
        for wanted in desired.services where seen.insert(wanted.key).inserted {
            guard let existing = currentByKey[wanted.key] else {
                var bare = wanted
                bare.destinations = []
                bare.statistics = nil
                additions.append(.addService(bare))
                additions += uniqueDestinations(wanted.destinations).map { .addDestination(wanted.key, settingsOnly($0)) }
                continue
            }
            if !wanted.hasSameSettings(as: existing) {
                var bare = wanted
                bare.destinations = []
                bare.statistics = nil
                edits.append(.updateService(bare))
            }
            var existingByID: [Destination.ID: Destination] = [:]
            for destination in existing.destinations { existingByID[destination.id] = destination }
            let wantedDestinations = uniqueDestinations(wanted.destinations)
            for destination in wantedDestinations {
                if let old = existingByID[destination.id] {
                    if !destination.hasSameSettings(as: old) {
                        edits.append(.updateDestination(wanted.key, settingsOnly(destination), previous: settingsOnly(old)))
                    }
                } else {
                    additions.append(.addDestination(wanted.key, settingsOnly(destination)))
                }
            }
            let wantedIDs = Set(wantedDestinations.map(\.id))
            for old in existing.destinations where !wantedIDs.contains(old.id) {
                removals.append(.deleteDestination(wanted.key, old.id))
            }
        }
        if removeUnlisted {
            for service in current.services where !seen.contains(service.key) {
                removals.append(.deleteService(service.key))
                seen.insert(service.key)
            }
        }
        return additions + edits + removals
    }

    private static func uniqueDestinations(_ destinations: [Destination]) -> [Destination] {
        var ids = Set<Destination.ID>()
        return destinations.filter { ids.insert($0.id).inserted }
    }

    private static func settingsOnly(_ destination: Destination) -> Destination {
        Destination(
            address: destination.address, port: destination.port, forwarding: destination.forwarding,
            weight: destination.weight, upperThreshold: destination.upperThreshold,
            lowerThreshold: destination.lowerThreshold)
    }
}
