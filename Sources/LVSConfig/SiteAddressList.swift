import Addressing

/// The file of a virtual server's `site_addresses`: one IPv4 or IPv6 address a line, blank lines and `#` comments
/// (to the end of the line) ignored, so the provisioning scripts of a hosting panel can write it as they wrote
/// their `deploy_v4_ips` lists.
public enum SiteAddressList {
    /// The addresses of `bytes`, in order and without repeats, and a diagnostic naming `file`, line and column
    /// for every line that is not an address (an error) or repeats one (a warning).
    public static func parse(_ bytes: [UInt8], file: String) -> (addresses: [IPAddress], diagnostics: [LVSDiagnostic]) {
        var addresses: [IPAddress] = []
        var seen: Set<IPAddress> = []
        var diagnostics: [LVSDiagnostic] = []
        for (index, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let content = line.prefix { $0 != UInt8(ascii: "#") }
            // Each field with its 1-based byte column.
            var fields: [(text: String, column: Int)] = []
            var start: Int?
            for offset in 0...content.count {
                let byte = offset < content.count ? content[content.startIndex + offset] : UInt8(ascii: " ")
                let blank = byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
                if blank, let begin = start {
                    let field = content[(content.startIndex + begin)..<(content.startIndex + offset)]
                    fields.append((String(decoding: field, as: UTF8.self), begin + 1))
                    start = nil
                } else if !blank, start == nil {
                    start = offset
                }
            }
            guard let (field, column) = fields.first else { continue }
            func report(_ severity: LVSDiagnostic.Severity, _ message: String, at column: Int) {
                diagnostics.append(
                    LVSDiagnostic(severity: severity, file: file, line: index + 1, column: column, message: message))
            }
            if fields.count > 1 {
                report(.error, "one address a line: unexpected '\(fields[1].text)' after \(field)", at: fields[1].column)
                continue
            }
            guard let address = IPAddress(field), !address.isUnspecified else {
                report(.error, "'\(field)' is not an IPv4 or IPv6 address (one site address a line, # comments)", at: column)
                continue
            }
            if seen.insert(address).inserted {
                addresses.append(address)
            } else {
                report(.warning, "site address \(address) is listed twice", at: column)
            }
        }
        return (addresses, diagnostics)
    }
}
