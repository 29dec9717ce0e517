#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// "connection refused" for ECONNREFUSED: the C library's text for an errno value.
func errnoText(_ code: CInt) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text).lowercased()
}
