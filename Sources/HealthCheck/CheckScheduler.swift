/// Which check is due next: a binary min-heap of deadlines, one per target, with `now` passed in.
///
/// Pure value type. Rescheduling or cancelling a target leaves its old heap entry behind as stale (recognised by
/// its ticket and skipped), so both are O(log n); the heap is rebuilt when stale entries outnumber live ones.
/// Targets due at the same instant come out in the order they were scheduled.
public struct CheckScheduler<ID: Hashable & Sendable, Instant: InstantProtocol & Sendable>: Sendable
where Instant.Duration == Duration {
    /// A check whose deadline has come.
    public struct Due: Hashable, Sendable {
        public var id: ID
        public var deadline: Instant
    }

    struct Entry: Sendable {
        var deadline: Instant
        var ticket: UInt64
        var id: ID

        func precedes(_ other: Entry) -> Bool {
            deadline < other.deadline || (deadline == other.deadline && ticket < other.ticket)
        }
    }

    private var heap: [Entry] = []
    private var live: [ID: Entry] = [:]
    private var nextTicket: UInt64 = 0

    public init() {}

    /// Number of scheduled targets.
    public var count: Int { live.count }

    /// The earliest deadline, or nil when nothing is scheduled.
    public var nextDeadline: Instant? { heap.first?.deadline }

    /// The deadline of `id`, or nil when it is not scheduled.
    public func deadline(of id: ID) -> Instant? { live[id]?.deadline }

    /// Schedules `id` at `deadline`, replacing any deadline it had.
    public mutating func schedule(_ id: ID, at deadline: Instant) {
        let entry = Entry(deadline: deadline, ticket: nextTicket, id: id)
        nextTicket &+= 1
        live[id] = entry
        heap.append(entry)
        siftUp(heap.count - 1)
        dropStaleTop()  // the entry it replaced may be on top
        compactIfNeeded()
    }

    /// Forgets `id` (no-op when it is not scheduled).
    public mutating func cancel(_ id: ID) {
        guard live.removeValue(forKey: id) != nil else { return }
        dropStaleTop()
        compactIfNeeded()
    }

    /// Removes and returns the targets whose deadline is at or before `now` (at most `limit` of them), earliest
    /// first. A returned target is no longer scheduled: schedule it again when its check completes.
    public mutating func popDue(now: Instant, limit: Int = .max) -> [Due] {
        var due: [Due] = []
        while due.count < limit, let top = heap.first, top.deadline <= now {
            removeTop()
            live[top.id] = nil
            due.append(Due(id: top.id, deadline: top.deadline))
            dropStaleTop()
        }
        return due
    }

    // MARK: heap

    private func isLive(_ entry: Entry) -> Bool { live[entry.id]?.ticket == entry.ticket }

    private mutating func dropStaleTop() {
        while let top = heap.first, !isLive(top) { removeTop() }
    }

    private mutating func compactIfNeeded() {
        guard heap.count > 64, heap.count > 2 * live.count else { return }
        heap = live.values.sorted { $0.precedes($1) }  // a sorted array is a valid heap
    }

    private mutating func removeTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var smallest = left
            if left + 1 < heap.count, heap[left + 1].precedes(heap[left]) { smallest = left + 1 }
            guard heap[smallest].precedes(heap[parent]) else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
