/// Busy workers from a web server's status page: Apache mod_status (`/server-status?auto`) or nginx stub_status.
public enum WorkerStatus {
    /// Parses a status page body.
    ///
    /// - Apache (`?auto`): the `BusyWorkers: N` line.
    /// - nginx stub_status: `Reading: r Writing: w Waiting: k`; busy = reading + writing (active minus idle
    ///   keep-alive connections).
    public static func parseBusyWorkers(_ text: String) throws(ProcParseError) -> Int {
        for line in text.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("BusyWorkers:") {
                guard let n = Int(line.dropFirst("BusyWorkers:".count).trimmingSpaces) else { break }
                return n
            }
            if line.hasPrefix("Reading:") {
                let f = line.split(separator: " ")
                guard f.count >= 4, f[2] == "Writing:", let r = Int(f[1]), let w = Int(f[3]) else { break }
                return r + w
            }
        }
        throw ProcParseError(
            file: "status page",
            reason: "neither an Apache 'BusyWorkers:' line (use the ?auto URL) nor an nginx 'Reading: Writing:' line")
    }
}
