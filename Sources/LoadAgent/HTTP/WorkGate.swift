/// A count of slow answers (graphs, reports: librrd drawing or reading a year of data) in progress or queued, on
/// the server's event loop. Past `limit` a slow request is refused at once (503) instead of queueing without bound,
/// and slow work runs on a pool of its own, so `/load` and `/load.json`, which directors poll with a deadline,
/// never wait behind it.
final class WorkGate {
    let limit: Int
    private(set) var inProgress = 0
    /// Slow requests refused because `limit` were in progress.
    private(set) var refused = 0

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a place; false (and counted) when all are taken.
    func enter() -> Bool {
        guard inProgress < limit else {
            refused += 1
            return false
        }
        inProgress += 1
        return true
    }

    func leave() {
        inProgress -= 1
    }
}
