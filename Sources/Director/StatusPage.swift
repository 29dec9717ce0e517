/// The read-only HTML status page: role, services, and every real server with its health, load, weight and why,
/// with links to the agents' graphs. Pure: rendered from a ``StatusReport``; the page refreshes itself.
public enum StatusPage {
    public static func render(_ report: StatusReport) -> String {
        var html = """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
            <title>h2e-director: \(escape(report.director.role))</title>
            <style>
            body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1.5em}
            th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}th{background:#eee}
            .up{color:#070}.down{color:#b00}.unknown{color:#777}.active{color:#070}.backup{color:#a60}
            </style></head><body>
            <h1>h2e-director <span class="\(escape(report.director.role))">\(escape(report.director.role))</span></h1>

            """
        let d = report.director
        html += "<p>\(d.standalone ? "standalone (no backup director)" : "configured as \(escape(d.configuredRole ?? "?"))")"
        html += "; \(escape(d.roleReason)), \(StatusReport.age(d.roleAgeSeconds)) ago"
        if let peer = d.peer {
            let said = "\(escape(peer.state)) (\(escape(peer.configuredRole))\(peer.fit ? "" : ", unfit"))"
            html += peer.alive ? "; peer \(said)" : "; peer silent, last said \(said)"
        } else if !d.standalone {
            html += "; peer not heard"
        }
        html += "; failovers \(d.failovers).</p>\n"
        html += "<p>IPVS (\(escape(report.ipvs.backend))): \(report.ipvs.changesApplied) changes, \(report.ipvs.errors) errors"
        if let error = report.ipvs.lastError { html += "; <b>failing</b>: \(escape(error))" }
        html += ". Configuration \(escape(d.configFile))"
        if let error = d.reloadError { html += "; <b>last reload failed</b>: <pre>\(escape(error))</pre>" }
        html += ".</p>\n"
        for virtual in report.virtuals {
            html += "<h2>\(escape(virtual.name)): \(escape(virtual.service)) \(escape(virtual.scheduler)) \(escape(virtual.forwarding))</h2>\n"
            html += "<p>VIP \(escape(virtual.address)), load monitor \(escape(virtual.loadMonitor))"
            if let sorry = virtual.sorryServer {
                html += ", sorry server \(escape(sorry))\(virtual.sorryServerInUse ? " <b>in use</b>" : "")"
            }
            if let panic = virtual.panic {
                html += "; <b>panic</b> for \(StatusReport.age(panic.ageSeconds)): \(panic.failing) of \(panic.total) servers "
                    + "fail their checks (fewer than \(panic.threshold)% pass), timed-out ones kept at their lowest load weight"
            }
            html += "</p>\n<table><tr><th>server</th><th>address</th><th>health</th><th>load</th><th>weight</th><th>override</th><th>why</th><th>graphs</th></tr>\n"
            for server in virtual.servers {
                var load = "-"
                if let value = server.load {
                    load = StatusReport.figure(value) + (server.loadAgeSeconds.map { " (\(StatusReport.age($0)) old)" } ?? "")
                } else if let error = server.loadError {
                    load = "error: " + error
                }
                let health = server.health + (server.healthDetail.map { ": \($0)" } ?? "")
                let graphs =
                    server.agentURL.map { url in
                        let u = escape(url)
                        return "<a href=\"\(u)\">agent</a> <a href=\"\(u)report\">report</a> "
                            + "<a href=\"\(u)graph/load.png?period=day\">load (day)</a>"
                    } ?? ""
                html += "<tr><td>\(escape(server.name))</td><td>\(escape(server.address)):\(server.port)</td>"
                html += "<td class=\"\(escape(server.health))\">\(escape(health))</td><td>\(escape(load))</td>"
                html += "<td>\(server.weight.map(String.init) ?? "out")</td><td>\(escape(server.override ?? ""))</td>"
                html += "<td>\(escape(server.reason))</td><td>\(graphs)</td></tr>\n"
            }
            html += "</table>\n"
        }
        html += failover(report.failover)
        html += "<p><a href=\"/status.json\">status.json</a> &middot; <a href=\"/metrics\">metrics</a></p>\n</body></html>\n"
        return html
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
