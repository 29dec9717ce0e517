@testable import Heartbeat

/// A manual instant for state machine tests: time only moves when the test says so.
struct TestInstant: InstantProtocol, CustomStringConvertible {
    var offset: Duration

    static let zero = TestInstant(offset: .zero)
    static func seconds(_ s: Double) -> TestInstant { TestInstant(offset: .milliseconds(Int64(s * 1000))) }

    func advanced(by duration: Duration) -> TestInstant { TestInstant(offset: offset + duration) }
    func duration(to other: TestInstant) -> Duration { other.offset - offset }
    static func < (lhs: TestInstant, rhs: TestInstant) -> Bool { lhs.offset < rhs.offset }
    var description: String { "t+\(offset)" }
}
