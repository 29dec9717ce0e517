/// A test clock for the pure state machines: `now` moves only when the test advances it.
public struct TestClock: Sendable {
    public private(set) var now = TestInstant.zero

    public init() {}

    public mutating func advance(by duration: Duration) { now = now.advanced(by: duration) }
}
