import Glibc
import StewardCore
import Synchronization

/// One line a service printed, as `steward ctl logs` shows it.
public struct LogLine: Sendable, Equatable {
    /// Wall-clock time Steward read it, seconds since the epoch.
    public var timeSeconds: Double
    public var stream: ServiceStream
    public var text: [UInt8]

    public init(timeSeconds: Double, stream: ServiceStream, text: [UInt8]) {
        self.timeSeconds = timeSeconds
        self.stream = stream
        self.text = text
    }
}

/// Where `steward ctl logs` reads a service's output: the lines Steward keeps (`ServiceLogs`, on the
/// console) or the journal (under journald, where services write to it directly).
public protocol ServiceLogSource: Sendable {
    /// The newest `lines` lines of `service`, oldest first.
    func newest(_ lines: Int, of service: String) throws -> [LogLine]
    /// The newest `lines` lines, then every line as it comes, nothing lost or doubled between the
    /// two. The stream ends when its reader stops iterating it, or at `close`.
    func follow(_ service: String, newest lines: Int) throws -> (backlog: [LogLine], stream: AsyncStream<LogLine>)
    /// Ends every follow (Steward is shutting down) and refuses new ones.
    func close()
}

/// Keeps each service's recent output lines (a `BoundedLog` per service) for `steward ctl logs`, and
/// passes every line on to the sink behind it (the console). Followers get the lines as they come;
/// one that reads too slowly loses the oldest of its unread lines rather than holding memory.
public final class ServiceLogs: OutputSink, ServiceLogSource {
    private let next: any OutputSink
    private let maximumLines: Int
    private let maximumBytes: Int
    private let state = Mutex(State())
    /// Unread lines a follower may have queued.
    public static let followerBacklog = 1000

    private struct State {
        var logs: [String: BoundedLog<LogLine>] = [:]
        var followers: [String: [Int: AsyncStream<LogLine>.Continuation]] = [:]
        var nextFollower = 0
        var closed = false
    }

    public init(passingTo next: any OutputSink, maximumLines: Int, maximumBytes: Int) {
        self.next = next
        self.maximumLines = maximumLines
        self.maximumBytes = maximumBytes
    }

    public func write(service: String, stream: ServiceStream, line: [UInt8]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let entry = LogLine(timeSeconds: Double(now.tv_sec) + Double(now.tv_nsec) / 1e9, stream: stream, text: line)
        // An entry's cost: its text and the storage around it.
        let bytes = line.count + MemoryLayout<LogLine>.stride + 32
        state.withLock { state in
            state.logs[service, default: BoundedLog(maximumEntries: maximumLines, maximumBytes: maximumBytes)].append(entry, bytes: bytes)
            if let followers = state.followers[service] {
                for follower in followers.values { follower.yield(entry) }
            }
        }
        next.write(service: service, stream: stream, line: line)
    }

    public func newest(_ lines: Int, of service: String) -> [LogLine] {
        state.withLock { $0.logs[service]?.newest(lines) ?? [] }
    }

    public func follow(_ service: String, newest lines: Int) -> (backlog: [LogLine], stream: AsyncStream<LogLine>) {
        let (stream, continuation) = AsyncStream.makeStream(of: LogLine.self, bufferingPolicy: .bufferingNewest(Self.followerBacklog))
        let backlog = state.withLock { state -> [LogLine] in
            if state.closed {
                continuation.finish()
            } else {
                let id = state.nextFollower
                state.nextFollower += 1
                state.followers[service, default: [:]][id] = continuation
                continuation.onTermination = { [weak self] _ in
                    self?.state.withLock { _ = $0.followers[service]?.removeValue(forKey: id) }
                }
            }
            return state.logs[service]?.newest(lines) ?? []
        }
        return (backlog, stream)
    }

    public func close() {
        let followers = state.withLock { state in
            state.closed = true
            defer { state.followers = [:] }
            return state.followers.values.flatMap(\.values)
        }
        for follower in followers { follower.finish() }
    }
}
