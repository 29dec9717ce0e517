/// The id an agent reports for its server: the `server` member of `/load.json`, its `X-SERVER` header, and what
/// a director expects from it (lvs.cf's `server_id`). It travels in an HTTP header, so it is 1-255 printable ASCII
/// characters.
public enum ServerID {
    /// The rule in words, for errors.
    public static let rule = "1-255 printable ASCII characters"

    public static func isValid(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 255 && id.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) }
    }
}
