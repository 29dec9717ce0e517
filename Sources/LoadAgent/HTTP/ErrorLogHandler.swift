import Logging
import NIOCore

/// Logs connection errors at debug level and closes the connection (parse errors were already answered).
final class ErrorLogHandler: ChannelInboundHandler {
    typealias InboundIn = Never
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("connection error: \(error)")
        context.close(promise: nil)
    }
}
