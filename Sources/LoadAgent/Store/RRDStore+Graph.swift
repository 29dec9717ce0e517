import CRRD

/// Bounds of graph sizes a client may ask for (pixels, whole image).
public enum GraphSize {
    public static let width = 200...2000
    public static let height = 100...1000
    public static let defaultWidth = 800
    public static let defaultHeight = 300
}

extension RRDStore {
    /// A PNG of `metric` over `period` ending at `now`, exactly `width` x `height` pixels (rrdtool's full-size mode),
    /// drawn by librrd's rrd_graph_v: the average as an area, the maximum as a line.
    public func graph(
        _ metric: Metric, period: Period, width: Int, height: Int, now: Int, serverID: String
    ) throws(AgentError) -> [UInt8] {
        let png = try withVerifiedFile(metric) { (opened) throws(AgentError) in
            try graph(metric, opened: opened, period: period, width: width, height: height, now: now, serverID: serverID)
        }
        guard let png else {
            throw .io(operation: "read", path: path(metric), reason: "no such file; has 'h2e-agent sample' run yet?")
        }
        return png
    }

    private func graph(
        _ metric: Metric, opened: String, period: Period, width: Int, height: Int, now: Int, serverID: String
    ) throws(AgentError) -> [UInt8] {
        let file = path(metric)
        // rrdtool's DEF syntax separates fields with ':'; escape them in the path.
        let escaped = opened.replacingColons
        let title = "\(serverID): \(metric.title), last \(period.rawValue)"
        let ds = metric.rawValue
        let args = [
            "graphv", "-", "--imgformat", "PNG", "--full-size-mode",
            "--width", "\(width)", "--height", "\(height)",
            "--start", "\(now - period.seconds)", "--end", "\(now)",
            "--title", title, "--lower-limit", "0",
            "DEF:avg=\(escaped):\(ds):AVERAGE", "DEF:max=\(escaped):\(ds):MAX",
            "AREA:avg#7fb3d5:average", "LINE1:max#c0392b:maximum",
            "GPRINT:avg:LAST:last %.2lf%s", "GPRINT:avg:AVERAGE:avg %.2lf%s", "GPRINT:max:MAX:max %.2lf%s",
        ]
        var image: [UInt8]?
        let (info, message) = withMutableCStrings(args) { argv in
            Self.call(exclusive: true, { rrd_graph_v(Int32(args.count), argv) }, failed: { $0 == nil })
        }
        defer { if let info { rrd_info_free(info) } }
        if let message { throw .rrd(operation: "graph", path: file, message: message) }
        var entry = info
        while let current = entry {
            if String(cString: current.pointee.key) == "image", current.pointee.type == RD_I_BLO {
                let blob = current.pointee.value.u_blo
                image = Array(UnsafeBufferPointer(start: blob.ptr, count: Int(blob.size)))
            }
            entry = current.pointee.next
        }
        guard let image else { throw .rrd(operation: "graph", path: file, message: "librrd returned no image") }
        return image
    }
}

extension String {
    var replacingColons: String {
        var out = ""
        for c in self { if c == ":" { out += "\\:" } else { out.append(c) } }
        return out
    }
}
