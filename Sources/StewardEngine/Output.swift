@preconcurrency import Dispatch
import Glibc
import StewardCore
import Synchronization
import SystemPackage

public enum ServiceStream: String, Sendable {
    case stdout, stderr
}

/// Where services' stdout and stderr go.
public enum ServiceOutput: Sendable {
    /// Steward reads the output line by line and hands each line to the sink.
    case lines(any OutputSink)
    /// Each run of a service gets descriptors of its own from the provider (journald streams),
    /// and Steward never sees the bytes.
    case streams(@Sendable (_ service: String, _ stream: ServiceStream) throws -> FileDescriptor)
}

/// Where the lines services print go.
public protocol OutputSink: Sendable {
    func write(service: String, stream: ServiceStream, line: [UInt8])
}

/// Writes `name | line` to Steward's own stdout or stderr, one write per line so lines of
/// different services never interleave.
public struct PrefixedOutputSink: OutputSink {
    public init() {}

    public func write(service: String, stream: ServiceStream, line: [UInt8]) {
        var bytes = Array(service.utf8)
        bytes += Array(" | ".utf8)
        bytes += line
        bytes.append(UInt8(ascii: "\n"))
        let fd: Int32 = stream == .stdout ? 1 : 2
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

/// The pipes behind one service's stdout and stderr. They live as long as the service's
/// supervisor, across restarts; each new main process gets the write ends.
final class OutputPump: Sendable {
    let stdoutWrite: FileDescriptor
    let stderrWrite: FileDescriptor
    private let sources: [DispatchSourceRead]
    /// Left by each source's cancel handler, once it has handed on the pipe's last lines.
    private let drained = DispatchGroup()
    private static let queue = DispatchQueue(label: "steward.output")

    init(service: String, sink: any OutputSink, maximumLineBytes: Int = 16 * 1024) throws {
        var writeEnds: [FileDescriptor] = []
        var sources: [DispatchSourceRead] = []
        for stream in [ServiceStream.stdout, .stderr] {
            let (readEnd, writeEnd) = try FileDescriptor.pipe()
            _ = fcntl(readEnd.rawValue, F_SETFD, FD_CLOEXEC)
            _ = fcntl(writeEnd.rawValue, F_SETFD, FD_CLOEXEC)
            _ = fcntl(readEnd.rawValue, F_SETFL, O_NONBLOCK)
            writeEnds.append(writeEnd)
            let source = DispatchSource.makeReadSource(fileDescriptor: readEnd.rawValue, queue: Self.queue)
            let splitter = Mutex(LineSplitter(maximumLineBytes: maximumLineBytes))
            @Sendable func drain() {
                var buffer = [UInt8](repeating: 0, count: 64 * 1024)
                while case let count = read(readEnd.rawValue, &buffer, buffer.count), count > 0 {
                    for line in splitter.withLock({ $0.feed(buffer[..<count]) }) {
                        sink.write(service: service, stream: stream, line: line)
                    }
                }
            }
            source.setEventHandler(handler: drain)
            drained.enter()
            source.setCancelHandler { [drained] in
                drain() // what was written before the pipe closed still counts
                if let rest = splitter.withLock({ $0.finish() }) {
                    sink.write(service: service, stream: stream, line: rest)
                }
                try? readEnd.close()
                drained.leave()
            }
            source.activate()
            sources.append(source)
        }
        stdoutWrite = writeEnds[0]
        stderrWrite = writeEnds[1]
        self.sources = sources
    }

    /// Stops reading once what the pipes hold has been handed on: a service's last lines (what it
    /// printed as it stopped) reach the sink before Steward, stopping, can exit. At most 5 s: a sink
    /// that cannot write (Steward's own stdout a full pipe nobody reads) must not keep Steward up.
    func close() {
        try? stdoutWrite.close()
        try? stderrWrite.close()
        sources.forEach { $0.cancel() }
        _ = drained.wait(timeout: .now() + 5)
    }
}

/// Where a service's runs write: pipes Steward reads line by line (kept across runs), or streams
/// opened per run (journald), which Steward never reads.
enum RunOutput: Sendable {
    case pump(OutputPump)
    case streams(@Sendable (String, ServiceStream) throws -> FileDescriptor)

    init(_ output: ServiceOutput, service: String) throws {
        self = switch output {
        case .lines(let sink): .pump(try OutputPump(service: service, sink: sink))
        case .streams(let provider): .streams(provider)
        }
    }

    /// stdout and stderr for a new run, and whether the run owns them (the caller closes them once
    /// the child has its copies).
    func descriptors(service: String) throws -> (FileDescriptor, FileDescriptor, ownedByRun: Bool) {
        switch self {
        case .pump(let pump):
            return (pump.stdoutWrite, pump.stderrWrite, false)
        case .streams(let provider):
            let stdout = try provider(service, .stdout)
            do {
                return (stdout, try provider(service, .stderr), true)
            } catch {
                try? stdout.close()
                throw error
            }
        }
    }

    func close() {
        if case .pump(let pump) = self { pump.close() }
    }
}
