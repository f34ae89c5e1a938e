@preconcurrency import Dispatch
import CSystemd
import Glibc
import StewardEngine
import Synchronization

/// `steward ctl logs` under journald: the services write to the journal directly (journal streams,
/// SYSLOG_IDENTIFIER=<service>), so their lines are read back from it with sd-journal, limited to
/// this Steward's unit when it runs in one. The stream is told by priority: the streams log stdout
/// at info and stderr at warning, so warning and above show as stderr (a service's own `<N>` level
/// prefixes move its lines accordingly).
public final class JournalLogs: ServiceLogSource {
    /// The systemd unit Steward runs in, if any.
    private let unit: String?
    private let closed = Atomic(false)
    private let followers = Mutex<[Int: AsyncStream<LogLine>.Continuation]>([:])
    private let nextFollower = Atomic(0)

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init() {
        var unit: UnsafeMutablePointer<CChar>?
        if sd_pid_get_unit(0, &unit) >= 0, let unit {
            self.unit = String(cString: unit)
            free(unit)
        } else {
            self.unit = nil
        }
    }

    public func newest(_ lines: Int, of service: String) throws -> [LogLine] {
        let journal = try open(service)
        defer { sd_journal_close(journal) }
        return backlog(journal, lines)
    }

    public func follow(_ service: String, newest lines: Int) throws -> (backlog: [LogLine], stream: AsyncStream<LogLine>) {
        let journal = try open(service)
        let backlog = backlog(journal, lines)
        let (stream, continuation) = AsyncStream.makeStream(of: LogLine.self, bufferingPolicy: .bufferingNewest(ServiceLogs.followerBacklog))
        let id = nextFollower.add(1, ordering: .relaxed).oldValue
        let stopped = Stopped()
        continuation.onTermination = { [weak self] _ in
            stopped.value.store(true, ordering: .relaxed)
            _ = self?.followers.withLock { $0.removeValue(forKey: id) }
        }
        followers.withLock { $0[id] = continuation }
        if closed.load(ordering: .relaxed) { continuation.finish() }
        // sd_journal_wait blocks: each follow has a thread of its own, which looks at least once a
        // second whether its reader has gone.
        let box = JournalBox(journal)
        DispatchQueue.global().async {
            defer { sd_journal_close(box.journal) }
            while !stopped.value.load(ordering: .relaxed) {
                let woke = sd_journal_wait(box.journal, 1_000_000)
                if woke < 0 { break }
                while sd_journal_next(box.journal) > 0 {
                    if let line = Self.entry(box.journal) { continuation.yield(line) }
                }
            }
            continuation.finish()
        }
        return (backlog, stream)
    }

    public func close() {
        closed.store(true, ordering: .relaxed)
        for follower in followers.withLock({ Array($0.values) }) { follower.finish() }
    }

    /// The journal with the matches for `service` (and this unit).
    private func open(_ service: String) throws -> OpaquePointer {
        var journal: OpaquePointer?
        let opened = sd_journal_open(&journal, Int32(SD_JOURNAL_LOCAL_ONLY))
        guard opened >= 0, let journal else {
            throw Failure(description: "cannot open the journal: \(String(cString: strerror(-opened)))")
        }
        var matches = ["SYSLOG_IDENTIFIER=" + service]
        if let unit { matches.append("_SYSTEMD_UNIT=" + unit) }
        for match in matches {
            let added = match.withCString { sd_journal_add_match(journal, $0, 0) }
            guard added >= 0 else {
                sd_journal_close(journal)
                throw Failure(description: "journal match \(match): \(String(cString: strerror(-added)))")
            }
        }
        return journal
    }

    /// The newest `count` entries, oldest first; leaves the journal at the newest, so that the next
    /// `sd_journal_next` finds what comes after.
    private func backlog(_ journal: OpaquePointer, _ count: Int) -> [LogLine] {
        guard sd_journal_seek_tail(journal) >= 0 else { return [] }
        guard count > 0 else {
            _ = sd_journal_previous(journal)
            return []
        }
        guard sd_journal_previous_skip(journal, UInt64(count)) > 0 else { return [] }
        var lines: [LogLine] = []
        repeat {
            if let line = Self.entry(journal) { lines.append(line) }
        } while sd_journal_next(journal) > 0
        return Array(lines.suffix(count))
    }

    /// The current entry as a line: MESSAGE, its time, and the stream its PRIORITY tells.
    private static func entry(_ journal: OpaquePointer) -> LogLine? {
        guard let message = field(journal, "MESSAGE") else { return nil }
        var microseconds: UInt64 = 0
        _ = sd_journal_get_realtime_usec(journal, &microseconds)
        let priority = field(journal, "PRIORITY").flatMap { Int32(String(decoding: $0, as: UTF8.self)) } ?? LOG_INFO
        return LogLine(timeSeconds: Double(microseconds) / 1e6, stream: priority <= LOG_WARNING ? .stderr : .stdout, text: message)
    }

    /// A field's value ("NAME=value" without "NAME=").
    private static func field(_ journal: OpaquePointer, _ name: String) -> [UInt8]? {
        var data: UnsafeRawPointer?
        var length = 0
        guard sd_journal_get_data(journal, name, &data, &length) >= 0, let data else { return nil }
        let bytes = UnsafeRawBufferPointer(start: data, count: length)
        return Array(bytes.dropFirst(name.utf8.count + 1))
    }
}

/// Whether a follow's reader has gone.
private final class Stopped: Sendable {
    let value = Atomic(false)
}

/// An sd_journal handle moved to the one thread that uses it from then on.
private struct JournalBox: @unchecked Sendable {
    let journal: OpaquePointer

    init(_ journal: OpaquePointer) {
        self.journal = journal
    }
}
