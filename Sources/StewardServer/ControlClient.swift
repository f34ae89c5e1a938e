import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// One request to a Steward's control socket, through NIO's HTTP/1 codec (`steward ctl`).
public struct ControlClient: Sendable {
    public let socketPath: String
    /// How long a request may take, its wait for a service included.
    public let timeout: Duration

    public init(socketPath: String, timeout: Duration) {
        self.socketPath = socketPath
        self.timeout = timeout
    }

    public struct Answer: Sendable {
        public var status: Int
        public var body: [UInt8]
    }

    /// Why there was no answer; each has its own exit status in `steward ctl`.
    public enum Failure: Error, CustomStringConvertible {
        /// No socket, or nobody listening on it.
        case notRunning(String)
        case permissionDenied(String)
        case timedOut(Duration)
        case failed(String)

        public var description: String {
            switch self {
            case .notRunning(let detail): "Steward is not running (\(detail))"
            case .permissionDenied(let path): "permission denied on \(path) (the socket is its owner's, and [control] group's if set)"
            case .timedOut(let timeout): "no answer within \(timeout)"
            case .failed(let detail): detail
            }
        }
    }

    public func get(_ path: String) async throws(Failure) -> Answer {
        try await send(.GET, path, body: nil)
    }

    /// A GET whose answer is handed to `receive` piece by piece as it arrives, for as long as the
    /// server sends it (a follow): `timeout` bounds only the wait for the answer to begin. Returns
    /// the status; a body that is not 2xx is read whole and returned instead.
    public func stream(_ path: String, receive: @escaping @Sendable ([UInt8]) async throws -> Void) async throws(Failure) -> Answer {
        try await send(.GET, path, body: nil, receive: receive)
    }

    public func post(_ path: String, body: [UInt8]? = nil) async throws(Failure) -> Answer {
        try await send(.POST, path, body: body)
    }

    private func send(
        _ method: HTTPMethod, _ uri: String, body: [UInt8]?, receive: (@Sendable ([UInt8]) async throws -> Void)? = nil
    ) async throws(Failure) -> Answer {
        let (socketPath, timeout) = (socketPath, timeout)
        let begun = Begun()
        do {
            return try await withThrowingTaskGroup(of: Answer?.self) { group in
                group.addTask {
                    try await Self.exchange(socketPath: socketPath, method: method, uri: uri, body: body, receive: receive, begun: begun)
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    // A streamed answer that has begun may go on for as long as the server sends it.
                    while begun.value.load(ordering: .relaxed) { try await Task.sleep(for: .seconds(3600)) }
                    return nil
                }
                defer { group.cancelAll() }
                guard let answer = try await group.next() ?? nil else { throw Failure.timedOut(timeout) }
                return answer
            }
        } catch let failure as Failure {
            throw failure
        } catch let error as IOError {
            throw Self.failure(errno: error.errnoCode, socketPath: socketPath, error: error)
        } catch let error as NIOConnectionError {
            let errnoCode = (error.connectionErrors.first?.error as? IOError)?.errnoCode ?? 0
            throw Self.failure(errno: errnoCode, socketPath: socketPath, error: error)
        } catch {
            throw .failed("\(socketPath): \(error)")
        }
    }

    private static func failure(errno code: Int32, socketPath: String, error: any Error) -> Failure {
        switch code {
        case ENOENT: .notRunning("no socket at \(socketPath)")
        case ECONNREFUSED: .notRunning("nobody listens on \(socketPath)")
        case EACCES, EPERM: .permissionDenied(socketPath)
        default: .failed("\(socketPath): \(error)")
        }
    }

    private static func exchange(
        socketPath: String, method: HTTPMethod, uri: String, body: [UInt8]?, receive: (@Sendable ([UInt8]) async throws -> Void)?, begun: Begun
    ) async throws -> Answer {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(unixDomainSocketPath: socketPath) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
            head.headers.add(name: "Host", value: "steward")
            head.headers.add(name: "Connection", value: "close")
            if let body {
                head.headers.add(name: "Content-Type", value: "application/json")
                head.headers.add(name: "Content-Length", value: String(body.count))
            }
            // The whole request in one write: written piece by piece, a server that answered and
            // closed after the head (a GET is complete without its end) could close the channel
            // under the next piece, and the answer would be lost to "I/O on closed channel".
            var request: [HTTPClientRequestPart] = [.head(head)]
            if let body { request.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            request.append(.end(nil))
            try await outbound.write(contentsOf: request)
            var answer = Answer(status: 0, body: [])
            for try await part in inbound {
                switch part {
                case .head(let response):
                    answer.status = Int(response.status.code)
                    if receive != nil && (200..<300).contains(answer.status) { begun.value.store(true, ordering: .relaxed) }
                case .body(let buffer):
                    if let receive, (200..<300).contains(answer.status) {
                        try await receive(Array(buffer.readableBytesView))
                    } else {
                        answer.body += buffer.readableBytesView
                    }
                case .end: return answer
                }
            }
            throw Failure.failed("\(socketPath): the connection closed before the answer ended")
        }
    }
}

/// Whether a streamed answer has begun (its 2xx head arrived).
private final class Begun: Sendable {
    let value = Atomic(false)
}
