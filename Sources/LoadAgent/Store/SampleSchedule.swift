/// Decides what one sample run writes to one RRD file: pure, with the time passed in.
///
/// Sample times are aligned down to the step, so a run at 12:00:41 writes 12:00:00 and two runs within one minute
/// land on the same point. A missed minute is written as unknown just before the new point, so the gap stays
/// unknown instead of taking the new value.
public enum SampleSchedule {
    public enum Action: Equatable, Sendable {
        /// Write these points (time, value; `nil` = unknown), in order.
        case write([Point])
        /// Write nothing; the reason is worth a log line, not a failure (a late or duplicate run).
        case skip(reason: String)
    }

    public struct Point: Equatable, Sendable {
        public var time: Int
        public var value: Double?
        public init(time: Int, value: Double?) {
            self.time = time
            self.value = value
        }
    }

    /// `now` aligned down to `step`.
    public static func aligned(_ now: Int, step: Int) -> Int { now - ((now % step) + step) % step }

    /// What to write for `value` sampled at `now`, given the file's last update.
    public static func decide(now: Int, lastUpdate: Int, value: Double?, step: Int) -> Action {
        let time = aligned(now, step: step)
        if lastUpdate > now {
            return .skip(reason: "the last sample (\(lastUpdate)) is newer than the clock (\(now)); is the clock right?")
        }
        if time <= lastUpdate {
            return .skip(reason: "the minute \(time) is already sampled; skipping this late or duplicate run")
        }
        var points: [Point] = []
        if time - lastUpdate > step { points.append(Point(time: time - step, value: nil)) }
        points.append(Point(time: time, value: value))
        return .write(points)
    }
}
