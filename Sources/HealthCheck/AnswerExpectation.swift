/// What a server's answer must look like for a check to pass (Piranha's `expect` and `use_regex`).
public struct AnswerExpectation: Hashable, Sendable, CustomStringConvertible {
    enum Kind: Hashable, Sendable {
        /// `expect = "*"`: any answer of at least one byte.
        case anything
        /// nanny's rule: the first `count` bytes of the answer equal `expect` (strlen(expect) bytes).
        case prefix([UInt8])
        /// `use_regex`: a POSIX extended regular expression matched anywhere in the answer.
        case regex(String)
    }

    let kind: Kind

    /// Any answer passes (`expect = "*"`).
    public static let anything = AnswerExpectation(kind: .anything)

    /// The answer must begin with `bytes` (nanny compares the first strlen(expect) bytes).
    public static func prefix(_ bytes: [UInt8]) -> AnswerExpectation { AnswerExpectation(kind: .prefix(bytes)) }

    /// The answer must begin with `text` (UTF-8 bytes).
    public static func prefix(_ text: String) -> AnswerExpectation { .prefix(Array(text.utf8)) }

    /// The answer must match the POSIX extended regular expression `pattern` anywhere.
    /// - Throws: `HealthCheckConfigurationError.invalidRegex` when regcomp rejects the pattern.
    public static func regex(_ pattern: String) throws(HealthCheckConfigurationError) -> AnswerExpectation {
        _ = try PosixRegex(pattern)
        return AnswerExpectation(kind: .regex(pattern))
    }

    /// Piranha's reading of `expect` and `use_regex`: `"*"` is any answer, otherwise a regex when `useRegex`, else a
    /// prefix.
    public init(expect: String, useRegex: Bool) throws(HealthCheckConfigurationError) {
        if expect == "*" {
            self = .anything
        } else if useRegex {
            self = try .regex(expect)
        } else {
            self = .prefix(expect)
        }
    }

    init(kind: Kind) { self.kind = kind }

    public var description: String {
        switch kind {
        case .anything: "*"
        case .prefix(let bytes): "\"\(HealthCheckFailure.excerpt(bytes, limit: 80))\""
        case .regex(let pattern): "/\(pattern)/"
        }
    }

    /// A matcher for one check. Compiles the regex, so make it where it is used (it is not Sendable).
    func makeMatcher() -> AnswerMatcher {
        switch kind {
        case .anything: AnswerMatcher(kind: kind, regex: nil)
        case .prefix: AnswerMatcher(kind: kind, regex: nil)
        // The pattern compiled when the expectation was made, so it compiles again.
        case .regex(let pattern): AnswerMatcher(kind: kind, regex: try? PosixRegex(pattern))
        }
    }
}

/// Judges an answer as its bytes arrive: a verdict as soon as one is possible, `.needMore` until then.
struct AnswerMatcher {
    enum Verdict: Equatable {
        case match
        case mismatch
        case needMore
    }

    let kind: AnswerExpectation.Kind
    let regex: PosixRegex?

    /// The most bytes worth reading: a prefix needs its own length, anything needs one byte; a regex reads up to
    /// `limit`.
    func bytesWanted(limit: Int) -> Int {
        switch kind {
        case .anything: 1
        case .prefix(let expected): max(1, min(expected.count, limit))
        case .regex: limit
        }
    }

    /// Whether an answer that ended here was cut off (nothing yet, or a prefix that agrees so far) rather than
    /// wrong.
    func isCutOff(_ received: some Collection<UInt8>) -> Bool {
        if received.isEmpty { return true }
        if case .prefix(let expected) = kind {
            return received.count < expected.count && received.elementsEqual(expected.prefix(received.count))
        }
        return false
    }

    /// - Parameters:
    ///   - received: every byte of the answer so far.
    ///   - complete: no more bytes will come (end of stream, or the read limit was reached).
    func judge(_ received: some Collection<UInt8>, complete: Bool) -> Verdict {
        switch kind {
        case .anything:
            if !received.isEmpty { return .match }
            return complete ? .mismatch : .needMore
        case .prefix(let expected):
            if received.count >= expected.count {
                return received.prefix(expected.count).elementsEqual(expected) ? .match : .mismatch
            }
            // A differing byte already decides; otherwise wait for the rest unless nothing more comes.
            guard received.elementsEqual(expected.prefix(received.count)) else { return .mismatch }
            return complete ? .mismatch : .needMore
        case .regex:
            // Matched against what has arrived so far: a match ends the check early.
            if regex?.matches(Array(received)) == true { return .match }
            return complete ? .mismatch : .needMore
        }
    }
}
