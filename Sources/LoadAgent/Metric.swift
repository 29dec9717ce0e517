/// One quantity the agent samples every minute and keeps in its own RRD file, `<rawValue>.rrd`, whose single data
/// source has the same name.
///
/// `load` is *the* load directors weigh by: the 1-minute load average divided by the number of CPUs
/// (``LoadSample/load``). 1.0 means one runnable task per CPU.
public enum Metric: String, CaseIterable, Sendable, Hashable {
    case load
    case load1
    case load5
    case load15
    case cpus
    case cpuUtil = "cpu_util"
    case memUsed = "mem_used"
    case memAvailable = "mem_available"
    case tcpEstablished = "tcp_established"
    case busyWorkers = "busy_workers"

    /// The RRD file name under the state directory.
    public var fileName: String { "\(rawValue).rrd" }

    /// Largest value the RRD accepts (`nil`: unbounded); out-of-range values are stored as unknown.
    var maximum: Double? {
        switch self {
        case .cpuUtil: return 1
        default: return nil
        }
    }

    /// Whether the figure is a whole number (a count or bytes).
    var isInteger: Bool {
        switch self {
        case .cpus, .memUsed, .memAvailable, .tcpEstablished, .busyWorkers: return true
        default: return false
        }
    }

    /// What the figure means, for graphs and reports.
    public var title: String {
        switch self {
        case .load: return "load (1-min load average per CPU)"
        case .load1: return "1-minute load average"
        case .load5: return "5-minute load average"
        case .load15: return "15-minute load average"
        case .cpus: return "CPUs"
        case .cpuUtil: return "CPU utilisation (0..1)"
        case .memUsed: return "memory used (bytes)"
        case .memAvailable: return "memory available (bytes)"
        case .tcpEstablished: return "established TCP connections to the service ports"
        case .busyWorkers: return "busy web server workers"
        }
    }
}
