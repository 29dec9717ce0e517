/// The human format of `status`: a header with the role, then one compact table of every real server.
extension StatusReport {
    /// `scale_out`: what this director announces, what not and why, and BIRD's sessions.
    var groupLines: [String] {
        guard let group else { return [] }
        var lines: [String] = []
        var head = "scale-out group member, announcing on \(group.device)"
        if group.drained { head += ", DRAINED by the operator" }
        head += ": \(group.announcements) announcements, \(group.withdrawals) withdrawals since start"
        lines.append(head)
        lines.append("announced: \(group.announced.isEmpty ? "nothing" : group.announced.joined(separator: ", "))")
        for missing in group.notAnnounced { lines.append("not announced: \(missing.address): \(missing.reason)") }
        if let bird = group.bird {
            for proto in bird.protocols where ["BGP", "BFD"].contains(proto.proto) {
                lines.append("bird \(proto.proto) \(proto.name): \(proto.state) \(proto.info)")
            }
            for session in bird.bfdSessions {
                lines.append("bird BFD session \(session.address) on \(session.interface): \(session.state) \(session.info)")
            }
            if !bird.protocols.contains(where: { $0.proto == "BGP" }) { lines.append("bird: no BGP session configured") }
        } else {
            lines.append("bird (\(group.birdSocket)): \(group.birdError ?? "unknown")")
        }
        for peer in group.peers {
            guard peer.error == nil || peer.announced != nil else {
                lines.append("peer director \(peer.address): \(peer.error ?? "no answer")")
                continue
            }
            let announced = peer.announced.map { $0.isEmpty ? "nothing" : $0.joined(separator: ", ") } ?? "?"
            var line = "peer director \(peer.address): \(peer.drained == true ? "DRAINED, " : "")announcing \(announced)"
            if let bgp = peer.bgp { line += "; BGP " + (bgp.isEmpty ? "none" : bgp.joined(separator: "; ")) }
            if let bfd = peer.bfd, !bfd.isEmpty { line += "; BFD " + bfd.joined(separator: ", ") }
            if let error = peer.error { line += "; \(error)" }
            lines.append(line)
        }
        return lines
    }

    public var text: String {
        var lines: [String] = []
        var head = "role \(director.role)"
        if director.standalone {
            head += " (standalone)"
        } else if let configured = director.configuredRole {
            head += " (\(configured))"
        }
        head += " since \(Self.age(director.roleAgeSeconds)): \(director.roleReason)"
        lines.append(head)
        if !director.standalone, group == nil {
            var line = "peer not heard"
            if let peer = director.peer {
                let said = "\(peer.state) (\(peer.configuredRole)\(peer.fit ? "" : ", unfit"))"
                line = peer.alive
                    ? "peer \(said)"
                    : "peer silent\(peer.heardAgeSeconds.map { " for \(Self.age($0))" } ?? ""), last said \(said)"
            }
            if !director.silentLinks.isEmpty { line += ", silent links \(director.silentLinks.map(String.init).joined(separator: ","))" }
            line += ", failovers \(director.failovers), rejected heartbeats \(director.heartbeatRejects)"
            lines.append(line)
        }
        var ipvsLine = "ipvs \(ipvs.backend): \(ipvs.changesApplied) changes applied, \(ipvs.errors) errors"
        if let error = ipvs.lastError { ipvsLine += "; failing: \(error)" }
        lines.append(ipvsLine)
        if let error = director.reloadError { lines.append("last reload failed, running the previous configuration:\n\(error)") }
        if let problem = director.overridesProblem { lines.append("OVERRIDES: \(problem)") }
        if !director.unmatchedOverrides.isEmpty {
            lines.append("overrides matching no real server: \(director.unmatchedOverrides.joined(separator: ", "))")
        }
        lines += failoverLines + groupLines
        for virtual in virtuals {
            guard let panic = virtual.panic else { continue }
            lines.append(
                "PANIC \(virtual.name) since \(Self.age(panic.ageSeconds)): \(panic.failing) of \(panic.total) real servers fail "
                    + "their checks (fewer than \(panic.threshold)% pass); timed-out servers kept at their lowest load weight")
        }
        if failover != nil && virtuals.isEmpty { return lines.joined(separator: "\n") + "\n" }
        var rows: [[String]] = [["VIRTUAL", "SERVER", "ADDRESS", "HEALTH", "CHECKED", "LOAD", "WEIGHT", "OVERRIDE", "REASON"]]
        for virtual in virtuals {
            for server in virtual.servers {
                var health = server.health
                if let age = server.healthAgeSeconds { health += " \(Self.age(age))" }
                var load = "-"
                if let value = server.load {
                    load = Self.figure(value)
                    if let age = server.loadAgeSeconds { load += " \(Self.age(age))" }
                } else if server.loadError != nil {
                    load = "error"
                }
                var checked = "-"
                if let last = server.lastCheck, let age = server.lastCheckAgeSeconds {
                    checked = (last == "passed" ? "ok" : "failed") + " \(Self.age(age))"
                }
                rows.append([
                    virtual.name, server.name, "\(server.address):\(server.port)", health, checked, load,
                    server.weight.map(String.init) ?? "out", server.override ?? "-",
                    server.reason
                        + (server.healthDetail.map { server.reason.contains($0) ? "" : " [\($0)]" } ?? ""),
                ])
            }
            if virtual.sorryServerInUse, let sorry = virtual.sorryServer {
                rows.append([virtual.name, "(sorry)", sorry, "-", "-", "-", "1", "-", "no real server is serving"])
            }
        }
        lines += Self.table(rows)
        return lines.joined(separator: "\n") + "\n"
    }

    static func table(_ rows: [[String]]) -> [String] {
        guard let width = rows.first?.count else { return [] }
        var widths = [Int](repeating: 0, count: width)
        for row in rows { for (i, cell) in row.enumerated() where i < width - 1 { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == width - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }
    }

    /// `12s`, `5m`, `3h`, `2d` ago.
    static func age(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.down))
        if s < 120 { return "\(max(s, 0))s" }
        if s < 7200 { return "\(s / 60)m" }
        if s < 172_800 { return "\(s / 3600)h" }
        return "\(s / 86400)d"
    }

    static func figure(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
