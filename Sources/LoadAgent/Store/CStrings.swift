#if canImport(Glibc)
import Glibc
#endif

/// Calls `body` with a NULL-terminated `const char **` copy of `strings`.
func withCStrings<R>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    var argv: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
    argv.append(nil)
    return argv.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}

/// Calls `body` with a NULL-terminated `char **` copy of `strings` (for librrd functions that take argv).
func withMutableCStrings<R>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    var argv: [UnsafeMutablePointer<CChar>?] = copies
    argv.append(nil)
    return argv.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}
