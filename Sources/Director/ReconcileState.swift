import IPVS
import NIOCore

/// The reconcile loop's memory of the kernel table, as a value: what to do next to make the kernel match the
/// desired table, and what happened last time.
///
/// - The kernel table is read once (at start: the existing table is adopted, never flushed), and again after any
///   failure and every `resyncInterval` (someone may have run ipvsadm); in between, the table last written is
///   taken as the kernel's, so a reconcile without a real change costs no netlink call at all.
/// - A failed apply (netlink error) is counted and remembered; the next tick reads the kernel again and retries.
public struct ReconcileState: Sendable {
    /// The next thing the loop must do.
    public enum Step: Sendable, Hashable {
        /// Read the kernel table, then ask again.
        case readKernel
        /// Apply these changes (never empty).
        case apply([IPVSChange])
        /// The kernel matches.
        case upToDate
    }

    /// The kernel's table as last read or written; nil when it must be read.
    public private(set) var known: IPVSTable?
    public private(set) var lastRead: NIODeadline?
    public private(set) var consecutiveFailures = 0
    public private(set) var failures = 0
    public private(set) var lastError: String?
    public private(set) var changesApplied = 0
    /// Whether ``known`` is a desired table the kernel was brought to (a diff or an apply since the last read), so a
    /// diff may skip the services that did not move since.
    public private(set) var holdsDesired = false
    /// True after a failure until an apply succeeds.
    public var needsRetry: Bool { lastError != nil }
    public let resyncInterval: TimeAmount

    public init(resyncInterval: TimeAmount = .seconds(60)) {
        self.resyncInterval = resyncInterval
    }

    /// Whether the kernel table must be read before the next apply: never read, a failure since, or
    /// `resyncInterval` over.
    public func kernelReadDue(now: NIODeadline) -> Bool {
        guard known != nil, let lastRead else { return true }
        return now - lastRead >= resyncInterval
    }

    /// What to do to reach `desired`. `changed`: the services that may differ from the desired table the kernel
    /// was last brought to (nil: any may). They alone are diffed while the kernel is known to hold that table (no
    /// read or failure since); after a read, the whole table is.
    public func next(desired: IPVSTable, changed: Set<ServiceKey>? = nil, now: NIODeadline) -> Step {
        guard let known, !kernelReadDue(now: now) else { return .readKernel }
        let changes = IPVSReconciler.changes(from: known, to: desired, only: holdsDesired ? changed : nil)
        return changes.isEmpty ? .upToDate : .apply(changes)
    }

    /// The kernel table was read.
    public mutating func kernelRead(_ table: IPVSTable, now: NIODeadline) {
        known = table
        lastRead = now
        holdsDesired = false
    }

    /// Every change went in: the kernel now holds `desired`.
    public mutating func applied(_ changes: [IPVSChange], desired: IPVSTable) {
        changesApplied += changes.count
        consecutiveFailures = 0
        lastError = nil
        known = desired
        holdsDesired = true
    }

    /// Nothing needed doing: a pending retry is over, and the kernel holds the desired table.
    public mutating func upToDate() {
        consecutiveFailures = 0
        lastError = nil
        holdsDesired = true
    }

    /// Reading or applying failed after `applied` changes went in: forget the kernel table (read it on the next
    /// tick) and remember the error.
    public mutating func failed(_ error: String, applied: Int = 0) {
        changesApplied += applied
        failures += 1
        consecutiveFailures += 1
        lastError = error
        known = nil
        holdsDesired = false
    }
}
