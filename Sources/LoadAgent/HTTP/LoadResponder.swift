/// Produces the answer to a routed request from the state directory: the blocking part of serving (librrd, file
/// reads), run off the event loop. `/load` and `/load.json` come ready-made from ``LoadAnswers`` instead
/// (``cached(_:)``), answered on the event loop.
public struct LoadResponder: Sendable {
    public struct Response: Sendable, Equatable {
        public var status: Int
        public var contentType: String
        public var body: [UInt8]

        public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }

        public init(status: Int, text: String) {
            self.init(status: status, body: Array(text.utf8))
        }
    }

    public var store: RRDStore
    public var serverID: String
    public var answers: LoadAnswers

    public init(answers: LoadAnswers) {
        self.store = answers.store
        self.serverID = answers.serverID
        self.answers = answers
    }

    /// The ready answer to `route` when there is one (`/load`, `/load.json`): a copy of bytes, no I/O.
    public func cached(_ route: Route) -> Response? {
        switch route {
        case .load: answers.load
        case .loadJSON: answers.loadJSON
        default: nil
        }
    }

    public func respond(to route: Route, now: Int) -> Response {
        do {
            return try answer(route, now: now)
        } catch {
            // The answer goes to anyone who can reach the port: no absolute path in it.
            return Response(status: 500, text: "error: \(error.description(hiding: store.directory))\n")
        }
    }

    func answer(_ route: Route, now: Int) throws(AgentError) -> Response {
        switch route {
        case .index:
            return Response(
                status: 200,
                text: "h2e-agent on \(serverID)\n/load\n/load.json\n/report?period=hour|day|week|month|year\n"
                    + "/graph/<metric>.png?period=..&width=..&height=..\n/rrd/<metric>.rrd\nmetrics: \(Route.metricNames)\n")
        case .load, .loadJSON:
            return cached(route)!
        case .report(let period):
            let report = try LoadReport.make(store: store, server: serverID, period: period, now: now)
            return Response(status: 200, text: report.text)
        case .graph(let metric, let period, let width, let height):
            guard FileIO.exists(store.path(metric)) else { return noSample() }
            let png = try store.graph(metric, period: period, width: width, height: height, now: now, serverID: serverID)
            return Response(status: 200, contentType: "image/png", body: png)
        case .rrd(let name):
            // Route admits only metric file names; O_NOFOLLOW and the regular-file check refuse symlinks.
            let path = "\(store.directory)/\(name)"
            guard FileIO.exists(path) else { return Response(status: 404, text: "no such RRD file yet\n") }
            do {
                let bytes = try FileIO.read(path, limit: 64 << 20, noFollow: true)
                return Response(status: 200, contentType: "application/octet-stream", body: bytes)
            } catch {
                return Response(status: 403, text: "refused: \(name) is not a regular file of the state directory\n")
            }
        }
    }

    func noSample() -> Response { Self.noSample }

    static let noSample = Response(
        status: 503, text: "no sample yet: is the h2e-agent cron job running 'h2e-agent sample'?\n")
}
