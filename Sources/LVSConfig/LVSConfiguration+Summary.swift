extension LVSConfiguration {
    /// One line for `check-config`: `lvs.cf: 2 virtual servers, 5 real servers, network direct, scheduler lblc`.
    /// Failover services are counted when there are any; several schedulers are listed in order of use.
    public func summary(file: String) -> String {
        func count(_ n: Int, _ noun: String, plural: String? = nil) -> String {
            "\(n) " + (n == 1 ? noun : plural ?? noun + "s")
        }
        var parts = [count(virtualServers.count, "virtual server"), count(realServerCount, "real server")]
        if !failoverServices.isEmpty { parts.append(count(failoverServices.count, "failover service")) }
        let sites = virtualServers.reduce(0) { $0 + $1.allSiteAddresses.count }
        if sites > 0 { parts.append(count(sites, "site address", plural: "site addresses") + " (marks by \(global.markRules))") }
        parts.append("network \(global.network)")
        var schedulers: [Scheduler] = []
        for v in virtualServers where !schedulers.contains(v.scheduler) { schedulers.append(v.scheduler) }
        if !schedulers.isEmpty {
            parts.append(
                (schedulers.count == 1 ? "scheduler " : "schedulers ")
                    + schedulers.map(\.rawValue).joined(separator: ", "))
        }
        if global.service == .fos { parts.append("service fos") }
        return "\(file): " + parts.joined(separator: ", ")
    }
}
