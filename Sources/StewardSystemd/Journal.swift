import CSystemd
import Glibc
import Logging
import StewardEngine
import SystemPackage

/// journald, when Steward runs under systemd: services' stdout/stderr become journal streams
/// (SYSLOG_IDENTIFIER=<service>, `<3>`-style priority prefixes honoured), Steward's own logs
/// structured entries.
public enum Journal {
    /// Under systemd (JOURNAL_STREAM is set for units whose output goes to the journal) or on any
    /// host where journald listens.
    public static var isAvailable: Bool {
        getenv("JOURNAL_STREAM") != nil || access("/run/systemd/journal/socket", F_OK) == 0
    }

    /// A new journal stream for one run of a service: stdout at info, stderr at warning level.
    @Sendable
    public static func stream(service: String, stream: ServiceStream) throws -> FileDescriptor {
        let fd = sd_journal_stream_fd(service, stream == .stdout ? LOG_INFO : LOG_WARNING, 1)
        guard fd >= 0 else { throw Errno(rawValue: -fd) }
        return FileDescriptor(rawValue: fd)
    }
}

/// A swift-log handler writing structured journal entries: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER,
/// and each metadata key as STEWARD_<KEY> (so `journalctl STEWARD_SERVICE=api` finds them).
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let identifier: String

    public init(identifier: String = "steward") {
        self.identifier = identifier
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = [
            "MESSAGE=\(event.message)",
            "PRIORITY=\(Self.priority(event.level))",
            "SYSLOG_IDENTIFIER=\(identifier)",
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            fields.append("STEWARD_\(Self.fieldName(key))=\(value)")
        }
        Self.send(fields)
    }

    /// Sends one entry; returns libsystemd's result (0 also when no journald listens).
    @discardableResult
    static func send(_ fields: [String]) -> Int32 {
        let buffers = fields.map { Array($0.utf8) }
        return withBuffers(buffers[...], []) { iovecs in
            sd_journal_sendv(iovecs, Int32(iovecs.count))
        }
    }

    private static func withBuffers<R>(_ rest: ArraySlice<[UInt8]>, _ done: [iovec], _ body: ([iovec]) -> R) -> R {
        guard let first = rest.first else { return body(done) }
        return first.withUnsafeBytes { bytes in
            withBuffers(rest.dropFirst(), done + [iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)], body)
        }
    }

    static func priority(_ level: Logger.Level) -> Int32 {
        switch level {
        case .trace, .debug: LOG_DEBUG
        case .info: LOG_INFO
        case .notice: LOG_NOTICE
        case .warning: LOG_WARNING
        case .error: LOG_ERR
        case .critical: LOG_CRIT
        }
    }

    /// Journal field names are upper-case letters, digits and underscores.
    static func fieldName(_ key: String) -> String {
        String(key.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}
