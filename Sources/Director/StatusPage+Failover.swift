/// `service = fos` on the status page: the director's failure state and one row per failover service.
extension StatusPage {
    static func failover(_ failover: StatusReport.Failover?) -> String {
        guard let failover else { return "" }
        var html = "<h2>failover services: " + (failover.failed ? "<b class=\"down\">failed</b>" : "<span class=\"up\">ok</span>")
        if let left = failover.holdDownLeftSeconds { html += ", hold-down \(StatusReport.age(left)) left" }
        html += "</h2>\n<p>\(failover.failures) failures, \(failover.consecutiveFailures) consecutive.</p>\n"
        html += "<table><tr><th>service</th><th>address</th><th>state</th><th>runs here</th><th>last check</th><th>start_cmd</th><th>stop_cmd</th></tr>\n"
        let command = { (command: StatusReport.Command) -> String in
            guard let result = command.lastResult else { return command.command == nil ? "none" : "not run" }
            return escape(result) + (command.lastAgeSeconds.map { ", \(StatusReport.age($0)) ago" } ?? "")
                + ", \(command.runs) runs, \(command.failures) failed"
        }
        for service in failover.services {
            let check = service.lastCheck.map { last in
                escape(last) + (service.lastCheckAgeSeconds.map { ", \(StatusReport.age($0)) ago" } ?? "")
            } ?? "-"
            html += "<tr><td>\(escape(service.name))</td><td>\(escape(service.address)) port \(service.port)</td>"
            html += "<td>\(escape(service.state))</td><td>\(service.runsHere ? "yes" : "no")</td>"
            html += "<td class=\"\(service.lastCheck == "passed" ? "up" : service.lastCheck == nil ? "unknown" : "down")\">\(check)</td>"
            html += "<td>\(command(service.start))</td><td>\(command(service.stop))</td></tr>\n"
        }
        return html + "</table>\n"
    }
}
