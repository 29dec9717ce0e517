/// An error already phrased for the operator: ArgumentParser prints it on stderr and exits with status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
