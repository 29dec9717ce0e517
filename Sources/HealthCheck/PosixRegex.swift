#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A compiled POSIX extended regular expression (regcomp with REG_EXTENDED | REG_NOSUB), matched against raw bytes.
///
/// Not Sendable: compile one where it is used (a check's channel handler compiles its own on its event loop).
final class PosixRegex {
    private let compiled: UnsafeMutablePointer<regex_t>

    /// - Throws: `HealthCheckConfigurationError.invalidRegex` with regerror's message.
    init(_ pattern: String) throws(HealthCheckConfigurationError) {
        let compiled = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        let status = regcomp(compiled, pattern, REG_EXTENDED | REG_NOSUB)
        guard status == 0 else {
            var message = [CChar](repeating: 0, count: 256)
            regerror(status, compiled, &message, message.count)
            compiled.deallocate()
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw .invalidRegex(pattern: pattern, message: text)
        }
        self.compiled = compiled
    }

    deinit {
        regfree(compiled)
        compiled.deallocate()
    }

    /// Whether the pattern matches anywhere in `bytes` (which may contain NUL: matched with REG_STARTEND).
    func matches(_ bytes: [UInt8]) -> Bool {
        var range = regmatch_t()
        range.rm_so = 0
        range.rm_eo = regoff_t(bytes.count)
        // regexec reads the buffer up to rm_eo; an empty array still needs a valid pointer.
        let buffer = bytes.isEmpty ? [0] : bytes
        return buffer.withUnsafeBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { chars in
                regexec(compiled, chars.baseAddress!, 1, &range, REG_STARTEND) == 0
            }
        }
    }
}
