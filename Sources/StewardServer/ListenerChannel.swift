import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import StewardConfig

/// The HTTP/1 connections of the metrics listener and the control socket: Hummingbird's own pipeline
/// (NIO's decoder with header limits, the idle timer, Hummingbird's request handling), put together
/// here for the two things its stock `HTTP1Channel` leaves open to a hostile or old client (and a
/// body limit: the bodies Steward takes are a few bytes of JSON, and Hummingbird would otherwise
/// read and drop any amount of one):
/// - a connection Hummingbird ends (after a 400, or a request that asked to close) is only
///   half-closed, and nothing reads it any more, so it stayed open until the peer gave up:
///   `CloseAfterResponse` closes it fully once the response is written;
/// - the request's HTTP version is dropped before Hummingbird sees it, so an HTTP/1.0 request (or
///   `Connection: Close` in capitals) kept its connection: `KeepAliveNormalizer` says `close` in the
///   words Hummingbird checks.
struct ListenerChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let limits: MetricsListenLimits

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            var decoderLimits = NIOHTTPDecoderLimitConfiguration()
            decoderLimits.maxHeaderFieldSize = limits.maxHeaderBytes
            decoderLimits.maxHeaderListSize = limits.maxHeaderBytes
            decoderLimits.maxHeaderFieldCount = limits.maxHeaderFields
            let pipeline = channel.pipeline.syncOperations
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false,  // NIOAsyncChannel handles one request at a time
                withErrorHandling: false,  // Hummingbird answers a malformed request with 400
                withOutboundHeaderValidation: false,  // swift-http-types has validated them
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: decoderLimits
            )
            try pipeline.addHandler(BodyLimit(maxBytes: limits.maxBodyBytes))
            try pipeline.addHandler(KeepAliveNormalizer())
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandler(CloseAfterResponse())
            // Counts from accept and from each response, so it is the header-read timeout too.
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: limits.idleTimeout, logger: logger))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }
}

/// Turns the half-close Hummingbird ends a connection with into a full close once NIO has written
/// everything before it, so that no socket waits for a peer that never closes.
private final class CloseAfterResponse: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = Any

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .output else { return context.close(mode: mode, promise: promise) }
        let halfClosed = context.eventLoop.makePromise(of: Void.self)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        halfClosed.futureResult.whenComplete { _ in loopBound.value.close(mode: .all, promise: nil) }
        halfClosed.futureResult.cascade(to: promise)
        context.close(mode: .output, promise: halfClosed)
    }
}

/// HTTP/1.0 without `keep-alive`, or any spelling of `Connection: close`: the request says
/// `connection: close` the way Hummingbird compares it, and the response says it too.
private final class KeepAliveNormalizer: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Whether the request being answered asked to close (one request at a time: no pipelining).
    private var closing = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(var head) = unwrapInboundIn(data), !head.isKeepAlive {
            closing = true
            head.headers.replaceOrAdd(name: "connection", value: "close")
            context.fireChannelRead(wrapInboundOut(.head(head)))
            return
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .head(var head) = unwrapOutboundIn(data), closing {
            head.headers.replaceOrAdd(name: "connection", value: "close")
            context.write(wrapOutboundOut(.head(head)), promise: promise)
            return
        }
        context.write(data, promise: promise)
    }
}

/// Refuses request bodies beyond `maxBytes`: a declared Content-Length over it is answered 413 and
/// the connection closed; a chunked body that grows past it has its connection closed.
private final class BodyLimit: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let maxBytes: Int
    private var bodyBytes = 0
    private var refused = false

    init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            bodyBytes = 0
            if let declared = head.headers.first(name: "content-length").flatMap(Int.init), declared > maxBytes {
                refused = true
                var headers = HTTPHeaders([("content-length", "0"), ("connection", "close")])
                headers.add(name: "content-type", value: "text/plain; charset=utf-8")
                let response = HTTPResponseHead(version: .http1_1, status: .payloadTooLarge, headers: headers)
                context.write(wrapOutboundOut(.head(response)), promise: nil)
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
                return
            }
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
            if bodyBytes > maxBytes {
                refused = true
                context.close(promise: nil)
                return
            }
        case .end:
            break
        }
        context.fireChannelRead(data)
    }
}
