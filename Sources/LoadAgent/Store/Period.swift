/// A span of history for reports and graphs, ending now.
public enum Period: String, CaseIterable, Sendable {
    case hour, day, week, month, year

    public var seconds: Int {
        switch self {
        case .hour: return 3600
        case .day: return 86400
        case .week: return 7 * 86400
        case .month: return 31 * 86400
        case .year: return 366 * 86400
        }
    }
}
