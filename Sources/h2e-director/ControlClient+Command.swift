import Director

extension ControlClient {
    /// Sends `request` to the daemon on `socket`. Throws a ``CommandFailure`` when the daemon cannot be reached, or
    /// when it answers with an error (its own words, else `refused`).
    static func ask(_ request: ControlRequest, socket: String, refused: String) async throws -> ControlResponse {
        let response: ControlResponse
        do {
            response = try await ControlClient(path: socket).send(request)
        } catch {
            throw CommandFailure("\(error)")
        }
        guard response.ok else { throw CommandFailure(response.error ?? refused) }
        return response
    }
}
