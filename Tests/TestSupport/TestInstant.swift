/// A manual instant for state machine tests: time only moves when the test says so. Shared by the test targets
/// (HeartbeatTests, DirectorTests) so that every state machine is tested on the same clock.
public struct TestInstant: InstantProtocol, Sendable, CustomStringConvertible {
    public var offset: Duration

    public init(offset: Duration) {
        self.offset = offset
    }

    public static let zero = TestInstant(offset: .zero)
    public static func seconds(_ s: Double) -> TestInstant { TestInstant(offset: .milliseconds(Int64(s * 1000))) }

    public func advanced(by duration: Duration) -> TestInstant { TestInstant(offset: offset + duration) }
    public func duration(to other: TestInstant) -> Duration { other.offset - offset }
    public static func < (lhs: TestInstant, rhs: TestInstant) -> Bool { lhs.offset < rhs.offset }
    public var description: String { "t+\(offset)" }
}
