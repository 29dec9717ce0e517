import Addressing
import AgentWire
/// Typed readers for the values of a statement. Each reports what is wrong with the value and what is allowed,
/// and returns nil then.
extension Parser {
    /// The single value of `statement`.
    mutating func single(_ statement: Statement) -> Token? {
        guard let value = statement.values.first else {
            let at = statement.equals.map { endPosition(of: $0) } ?? endPosition(of: statement.keyword)
            sink.error(at, "'\(statement.name)' needs a value after '='")
            return nil
        }
        if statement.values.count > 1 {
            let extra = statement.values[1]
            var message = "unexpected \(extra.quotedForMessage) after the value of '\(statement.name)'"
            if value.kind == .word { message += "; quote a value that contains blanks" }
            sink.error(extra.position, message)
            return nil
        }
        return value
    }

    mutating func string(_ statement: Statement) -> String? { single(statement)?.text }

    /// A server id as h2e-agent reports it (`--server-id`, X-SERVER): ``ServerID``'s rule.
    mutating func serverID(_ statement: Statement) -> String? {
        guard let token = single(statement) else { return nil }
        let text = token.text
        guard ServerID.isValid(text) else {
            sink.error(
                token.position,
                "'\(statement.name)' must be \(ServerID.rule), the --server-id its h2e-agent reports")
            return nil
        }
        return text
    }

    /// A send/expect string: quoted strings are decoded by the lexer; a bare word gets the same escapes decoded,
    /// as nanny did with the text it was given.
    mutating func checkString(_ statement: Statement) -> String? {
        guard let token = single(statement) else { return nil }
        return token.kind == .quoted ? token.text : Self.decodeEscapes(token.text)
    }

    /// `scheduler_flags`: ipvsadm's flag names, separated by commas or blanks (`mh-fallback,mh-port`).
    mutating func schedulerFlags(_ statement: Statement) -> Set<SchedulerFlag>? {
        guard !statement.values.isEmpty else { return single(statement).map { _ in [] } }
        var flags: Set<SchedulerFlag> = []
        for token in statement.values {
            for name in token.text.split(separator: ",") {
                guard let flag = SchedulerFlag(name: String(name)) else {
                    sink.error(
                        token.position,
                        "'\(name)' is not a scheduler flag: mh-fallback, mh-port, sh-fallback, sh-port, flag-1, flag-2 "
                            + "or flag-3, separated by commas")
                    return nil
                }
                flags.insert(flag)
            }
        }
        return flags
    }

    /// `ADDRESS:PORT` values (`[v6]:PORT` for IPv6), one or more, separated by blanks.
    mutating func hostPorts(_ statement: Statement) -> [HostPort]? {
        guard !statement.values.isEmpty else { return single(statement).map { _ in [] } }
        var result: [HostPort] = []
        for token in statement.values {
            guard let hostPort = HostPort(parsing: token.text), hostPort.port > 0, IPAddress(hostPort.host) != nil else {
                sink.error(
                    token.position,
                    "'\(token.text)' is not ADDRESS:PORT for '\(statement.name)' (e.g. 10.0.0.12:9180, [fd00::12]:9180)")
                return nil
            }
            result.append(hostPort)
        }
        return result
    }

    /// An absolute path.
    mutating func path(_ statement: Statement) -> String? {
        guard let token = single(statement) else { return nil }
        guard token.text.hasPrefix("/") else {
            sink.error(
                token.position, "'\(statement.name)' must be an absolute path (starting with '/'), not '\(token.text)'")
            return nil
        }
        return token.text
    }

    /// An integer read as C's `strtol(s, &end, 0)` reads it, as Piranha's `getNum` did (so `0x64` is 100 and
    /// `010` is 8, with a warning), within `range`.
    mutating func integer(_ statement: Statement, in range: ClosedRange<Int>, unit: String = "") -> Int? {
        guard let token = single(statement) else { return nil }
        return integer(token, of: statement.name, in: range, unit: unit)
    }

    mutating func integer(_ token: Token, of name: String, in range: ClosedRange<Int>, unit: String = "") -> Int? {
        var allowed: String {
            "\(range.lowerBound)" + (range.upperBound == Int(Int32.max) ? " or more" : "...\(range.upperBound)") + unit
        }
        guard let (value, isOctal) = Self.cInteger(token.text) else {
            sink.error(token.position, "'\(name)' must be a whole number (\(allowed)), not '\(token.text)'")
            return nil
        }
        guard range.contains(value) else {
            sink.error(token.position, "'\(name)' must be \(allowed), not \(value)")
            return nil
        }
        if isOctal {
            sink.warning(
                token.position,
                "'\(token.text)' has a leading zero, so it is octal (\(value)), as Piranha read it; write \(value)")
        }
        return value
    }

    /// A duration in seconds: a whole number or a decimal fraction (`0.2`), within `range`. Piranha read whole
    /// seconds; sub-second heartbeats are h2e's extension, so `2` means what it always meant.
    mutating func seconds(_ statement: Statement, in range: ClosedRange<Double>) -> Double? {
        guard let token = single(statement) else { return nil }
        let text = token.text
        let isDecimal = !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
            && text.filter { $0 == "." }.count <= 1 && text.first != "." && text.last != "."
        guard isDecimal, let value = Double(text) else {
            sink.error(token.position, "'\(statement.name)' must be a number of seconds such as 2 or 0.5, not '\(text)'")
            return nil
        }
        guard range.contains(value) else {
            sink.error(
                token.position,
                "'\(statement.name)' must be \(formatSeconds(range.lowerBound))...\(formatSeconds(range.upperBound)) seconds, not \(text)")
            return nil
        }
        return value
    }

    /// A boolean. Piranha's `getBoolean` takes the numbers 0 and 1; `anyNumber` is for the keywords it read with
    /// `getNum` (any number, non-zero is on).
    mutating func boolean(_ statement: Statement, anyNumber: Bool = false) -> Bool? {
        guard let token = single(statement) else { return nil }
        guard let (value, _) = Self.cInteger(token.text), anyNumber || value == 0 || value == 1 else {
            sink.error(token.position, "'\(statement.name)' must be 0 or 1, not '\(token.text)'")
            return nil
        }
        return value != 0
    }

    /// One of the cases of `E`, by raw value.
    mutating func choice<E: RawRepresentable & CaseIterable>(_ statement: Statement, of: E.Type) -> E?
    where E.RawValue == String {
        guard let token = single(statement) else { return nil }
        if let value = E(rawValue: token.text) { return value }
        let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
        sink.error(token.position, "'\(statement.name)' must be one of \(allowed); not '\(token.text)'")
        return nil
    }

    /// A port: a number in `range` or a service name of `ServiceNames`.
    mutating func port(_ statement: Statement, allowZero: Bool = true) -> UInt16? {
        guard let token = single(statement) else { return nil }
        let lowest = allowZero ? 0 : 1
        if let port = ServiceNames.port(named: token.text) { return port }
        guard Self.cInteger(token.text) != nil else {
            sink.error(
                token.position,
                "'\(statement.name)' must be a port number (\(lowest)...65535) or a service name such as http, "
                    + "https, smtp; '\(token.text)' is neither")
            return nil
        }
        return integer(token, of: statement.name, in: lowest...65535).map { UInt16($0) }
    }

    /// An IP address literal (h2e resolves no host names).
    mutating func address(_ statement: Statement) -> IPAddress? {
        guard let token = single(statement) else { return nil }
        return address(token, of: statement.name)
    }

    mutating func address(_ token: Token, of name: String) -> IPAddress? {
        guard let address = IPAddress(token.text) else {
            let hint =
                token.text.contains(where: \.isLetter) && !token.text.contains(":")
                ? " (h2e does not resolve host names in lvs.cf; write the address)" : ""
            sink.error(
                token.position, "'\(name)' must be an IPv4 or IPv6 address, not '\(token.text)'\(hint)")
            return nil
        }
        guard !address.isUnspecified else {
            sink.error(token.position, "'\(name)' cannot be the unspecified address \(address)")
            return nil
        }
        return address
    }

    /// A netmask: dotted IPv4 or a prefix length.
    mutating func netmask(_ statement: Statement) -> Netmask? {
        guard let token = single(statement) else { return nil }
        switch Netmask.parse(token.text) {
        case .success(let mask):
            return mask
        case .failure(.notContiguous):
            sink.error(
                token.position, "'\(statement.name)' \(token.text) is not a contiguous netmask (ones, then zeros)")
        case .failure(.notAMask):
            sink.error(
                token.position,
                "'\(statement.name)' must be a netmask such as 255.255.255.0 or a prefix length 0...128, "
                    + "not '\(token.text)'")
        }
        return nil
    }

    /// `IP dev[:alias]`.
    mutating func interfaceAddress(_ statement: Statement) -> InterfaceAddress? {
        guard let first = statement.values.first else {
            let at = statement.equals.map { endPosition(of: $0) } ?? endPosition(of: statement.keyword)
            sink.error(
                at, "'\(statement.name)' needs an address and a device, e.g. \(statement.name) = 10.0.0.10 eth0:1")
            return nil
        }
        let address = address(first, of: statement.name)
        guard statement.values.count >= 2 else {
            sink.error(
                endPosition(of: first),
                "'\(statement.name)' needs a device after the address, e.g. \(statement.name) = \(first.text) eth0:1")
            return nil
        }
        if statement.values.count > 2 {
            sink.error(
                statement.values[2].position,
                "unexpected \(statement.values[2].quotedForMessage) after '\(statement.name) = ADDRESS DEVICE'")
            return nil
        }
        guard let (device, alias) = deviceLabel(statement.values[1], of: statement.name, allowAlias: true) else {
            return nil
        }
        return address.map { InterfaceAddress(address: $0, device: device, alias: alias) }
    }

    /// An interface name, optionally with `:alias`.
    mutating func deviceLabel(_ token: Token, of name: String, allowAlias: Bool) -> (String, String?)? {
        let parts = token.text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let device = parts[0]
        let alias = parts.count > 1 ? parts[1] : nil
        func valid(_ s: String, extra: String) -> Bool {
            !s.isEmpty
                && s.unicodeScalars.allSatisfy {
                    ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
                        || extra.unicodeScalars.contains($0)
                }
        }
        guard valid(device, extra: "_.-"), device.utf8.count <= 15, alias == nil || allowAlias,
            alias.map({ valid($0, extra: "_-") }) ?? true, token.text.utf8.count <= 15
        else {
            sink.error(
                token.position,
                "'\(token.text)' is not an interface name for '\(name)': letters, digits, '_', '.', '-', at most 15 "
                    + (allowAlias ? "bytes, optionally ':alias' (eth0 or eth0:1)" : "bytes (e.g. eth0)"))
            return nil
        }
        return (device, alias)
    }

    /// `[ a b c ]`; only bare `[` and `]` are brackets (`[a` and `c]` are tolerated), so `"]"` is an item.
    mutating func list(_ statement: Statement) -> [String]? {
        var items = statement.values.map { (text: $0.text, bare: $0.kind == .word) }
        var opened = false
        var closed = false
        if let first = items.first, first.bare, first.text.hasPrefix("[") {
            opened = true
            items[0].text.removeFirst()
            if items[0].text.isEmpty { items.removeFirst() }
        }
        if let last = items.last, last.bare, last.text.hasSuffix("]"), opened {
            closed = true
            items[items.count - 1].text.removeLast()
            if items[items.count - 1].text.isEmpty { items.removeLast() }
        }
        guard opened, closed else {
            let at = statement.values.first?.position ?? endPosition(of: statement.equals ?? statement.keyword)
            sink.error(at, "'\(statement.name)' must be a list: \(statement.name) = [ /first /second ]")
            return nil
        }
        return items.map(\.text)
    }

    /// Decodes `\r \n \t \\ \" \'`; other backslashes stay.
    static func decodeEscapes(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var out: [UInt8] = []
        var bytes = text.utf8.makeIterator()
        while let byte = bytes.next() {
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                continue
            }
            guard let next = bytes.next() else {
                out.append(byte)
                break
            }
            switch next {
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): out.append(next)
            default: out += [byte, next]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `strtol(text, &end, 0)` with `*end == 0` required: optional sign, then `0x` hex, `0` octal or decimal.
    /// Returns the value and whether it was octal; nil for anything else or beyond 64 bits.
    static func cInteger(_ text: String) -> (Int, Bool)? {
        var digits = Substring(text).utf8[...]
        var negative = false
        if let sign = digits.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        var radix = 10
        if digits.count > 2, digits.first == UInt8(ascii: "0"),
            digits.dropFirst().first == UInt8(ascii: "x") || digits.dropFirst().first == UInt8(ascii: "X")
        {
            radix = 16
            digits = digits.dropFirst(2)
        } else if digits.count > 1, digits.first == UInt8(ascii: "0") {
            radix = 8
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.count <= 24 else { return nil }
        var magnitude = 0
        for byte in digits {
            let digit: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = Int(byte - UInt8(ascii: "A")) + 10
            default: return nil
            }
            guard digit < radix else { return nil }
            let (times, overflow1) = magnitude.multipliedReportingOverflow(by: radix)
            let (sum, overflow2) = times.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            magnitude = sum
        }
        return (negative ? -magnitude : magnitude, radix == 8)
    }
}

/// Seconds as lvs.cf writes them: `2`, not `2.0`; `0.2` as typed (Swift's shortest round-tripping form).
func formatSeconds(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
}
