/// One step that brings the kernel IPVS table closer to the desired one; `description` says it in words.
public enum IPVSChange: Hashable, Sendable, CustomStringConvertible {
    /// Adds the service itself; its destinations follow as `addDestination` changes.
    case addService(VirtualService)
    /// Scheduler, persistence or flags changed: edited in place, connections kept.
    case updateService(VirtualService)
    case deleteService(ServiceKey)
    case addDestination(ServiceKey, Destination)
    /// Weight, thresholds or forwarding changed: edited in place, never deleted and re-added.
    case updateDestination(ServiceKey, Destination, previous: Destination)
    case deleteDestination(ServiceKey, Destination.ID)

    public var description: String {
        switch self {
        case .addService(let service):
            var text = "add service \(service.key) \(service.scheduler)"
            if let persistence = service.persistence { text += " persistent \(persistence.timeout)" }
            return text
        case .updateService(let service):
            var text = "edit service \(service.key) \(service.scheduler)"
            if let persistence = service.persistence { text += " persistent \(persistence.timeout)" }
            return text
        case .deleteService(let key):
            return "delete service \(key)"
        case .addDestination(let key, let destination):
            return "add server \(destination.id) to \(key) \(destination.forwarding) weight \(destination.weight)"
        case .updateDestination(let key, let destination, let previous):
            var parts: [String] = []
            if destination.weight != previous.weight { parts.append("weight \(previous.weight) -> \(destination.weight)") }
            if destination.forwarding != previous.forwarding { parts.append("forwarding \(previous.forwarding) -> \(destination.forwarding)") }
            if destination.upperThreshold != previous.upperThreshold { parts.append("upper threshold \(previous.upperThreshold) -> \(destination.upperThreshold)") }
            if destination.lowerThreshold != previous.lowerThreshold { parts.append("lower threshold \(previous.lowerThreshold) -> \(destination.lowerThreshold)") }
            return "set \(parts.joined(separator: ", ")) for \(destination.id) in \(key)"
        case .deleteDestination(let key, let id):
            return "remove server \(id) from \(key)"
        }
    }
}
