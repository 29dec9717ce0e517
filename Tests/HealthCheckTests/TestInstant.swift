@testable import HealthCheck

/// A made-up instant for the pure state machines: an offset from an arbitrary zero, moved by hand.
struct TestInstant: InstantProtocol, Sendable {
    var offset: Duration

    static let zero = TestInstant(offset: .zero)

    static func seconds(_ value: Double) -> TestInstant { TestInstant(offset: .seconds(value)) }

    func advanced(by duration: Duration) -> TestInstant { TestInstant(offset: offset + duration) }
    func duration(to other: TestInstant) -> Duration { other.offset - offset }
    static func < (lhs: TestInstant, rhs: TestInstant) -> Bool { lhs.offset < rhs.offset }
}

/// A test clock: `now` moves only when the test advances it.
struct TestClock {
    private(set) var now = TestInstant.zero

    mutating func advance(by duration: Duration) { now = now.advanced(by: duration) }
}
