import CgroupStats
import CgroupFS
import Foundation
import Logging
import StewardConfig
import StewardCore
import Synchronization
import Testing
import StewardEngine

/// Real-kernel captures in Tests/Fixtures, shared by every test target (located from this file's
/// path, not Bundle.module, so that all targets find the same directory).
public enum Fixture {
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    public static func text(_ relativePath: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relativePath), encoding: .utf8)
    }

    public static func exists(_ relativePath: String) -> Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent(relativePath).path)
    }
}

/// Multiplies every test deadline and timing tolerance: STEWARD_TEST_TIME_SCALE=5 for slow
/// machines such as the qemu guests (software emulation). Only tolerances scale, never what a
/// test asserts must (or must not) happen.
public let testTimeScale = Double(ProcessInfo.processInfo.environment["STEWARD_TEST_TIME_SCALE"] ?? "") ?? 1

extension Duration {
    /// This duration stretched by `testTimeScale`.
    public var scaled: Duration { self * testTimeScale }
}

/// Collects what services print, and lets a test wait for a line instead of sleeping.
public final class CollectingSink: OutputSink {
    public struct Line: Sendable {
        public var service: String
        public var stream: ServiceStream
        public var text: String
    }

    public init() {}

    /// A waiter's predicate sees the new line and every line so far (the lock is held: it must
    /// not call back into the sink).
    private let state = Mutex<(lines: [Line], waiters: [(@Sendable (Line, [Line]) -> Bool, CheckedContinuation<Line, Never>)])>(([], []))

    public func write(service: String, stream: ServiceStream, line: [UInt8]) {
        let entry = Line(service: service, stream: stream, text: String(decoding: line, as: UTF8.self))
        let ready = state.withLock { state in
            state.lines.append(entry)
            var ready: [CheckedContinuation<Line, Never>] = []
            state.waiters.removeAll { waiter in
                guard waiter.0(entry, state.lines) else { return false }
                ready.append(waiter.1)
                return true
            }
            return ready
        }
        ready.forEach { $0.resume(returning: entry) }
    }

    public var lines: [Line] { state.withLock { $0.lines } }

    public func lines(of service: String) -> [String] {
        lines.filter { $0.service == service }.map(\.text)
    }

    /// Returns the first line (already printed or to come) that matches.
    @discardableResult
    public func waitForLine(_ predicate: @escaping @Sendable (Line) -> Bool) async -> Line {
        await waitForLine { line, _ in predicate(line) }
    }

    /// Returns once `service` has printed at least `count` lines.
    public func waitForLines(of service: String, count: Int) async {
        await waitForLines(count: count) { $0.service == service }
    }

    /// Returns once at least `count` lines match.
    public func waitForLines(count: Int, where matches: @escaping @Sendable (Line) -> Bool) async {
        _ = await waitForLine { _, all in all.count(where: matches) >= count }
    }

    /// Returns once `service` has printed exactly `line`.
    public func wait(for line: String, from service: String) async {
        _ = await waitForLine { $0.service == service && $0.text == line }
    }

    private func waitForLine(_ predicate: @escaping @Sendable (Line, [Line]) -> Bool) async -> Line {
        await withCheckedContinuation { continuation in
            state.withLock { state in
                if let line = state.lines.first(where: { predicate($0, state.lines) }) {
                    continuation.resume(returning: line)
                } else {
                    state.waiters.append((predicate, continuation))
                }
            }
        }
    }
}

/// Fails the test instead of hanging when an awaited event never comes. `limit` is stretched by
/// `testTimeScale`. On timeout the body is abandoned, not awaited: what it waits for (a
/// continuation) may never come, and awaiting it would hang the whole run.
public func withDeadline<T: Sendable>(
    _ what: String,
    limit: Duration = .seconds(30),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let limit = limit.scaled
    let outcome = FirstOutcome<T>()
    let timer = Mutex<Task<Void, Never>?>(nil)
    let result: Result<T, any Error>? = await withCheckedContinuation { continuation in
        outcome.arm(continuation)
        let work = Task {
            do { outcome.settle(.success(try await body())) } catch { outcome.settle(.failure(error)) }
        }
        timer.withLock {
            $0 = Task {
                guard (try? await Task.sleep(for: limit)) != nil else { return }  // cancelled: the body won
                outcome.settle(nil)
                work.cancel()
            }
        }
    }
    timer.withLock { $0?.cancel() }
    guard let result else {
        Issue.record("timed out after \(limit) waiting for \(what)", sourceLocation: sourceLocation)
        throw CancellationError()
    }
    return try result.get()
}

/// Resumes a continuation with whichever outcome comes first.
private final class FirstOutcome<T: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Result<T, any Error>?, Never>?, done: Bool)>((nil, false))

    func arm(_ continuation: CheckedContinuation<Result<T, any Error>?, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    func settle(_ result: Result<T, any Error>?) {
        let continuation = state.withLock { state -> CheckedContinuation<Result<T, any Error>?, Never>? in
            guard !state.done, let continuation = state.continuation else { return nil }
            state.done = true
            return continuation
        }
        continuation?.resume(returning: result)
    }
}

extension Tag {
    /// The test creates real cgroups and processes. `scripts/test` runs every test with this tag
    /// again in the qemu guests (a pure cgroup-v2 kernel, optionally a pure v1 one), so a suite is
    /// selected by what it does, not by its name.
    @Tag public static var realCgroups: Self
    /// Left out of the qemu guests: what the test checks does not depend on the kernel's cgroup
    /// version, and under software emulation it would take minutes of both CPUs (a real browser,
    /// 50 MB through pipes) and starve the suites running beside it past their deadlines.
    @Tag public static var hostOnly: Self
}

/// Fails the running test unless it carries `.realCgroups`: one that touched real cgroups without
/// the tag would silently be left out of the guests. Every way tests make cgroups passes here.
public func expectRealCgroupsTag(sourceLocation: SourceLocation = #_sourceLocation) {
    guard let test = Test.current, !test.tags.contains(.realCgroups) else { return }
    Issue.record("\(test.name) makes real cgroups but its suite lacks .tags(.realCgroups): the guests would skip it",
                 sourceLocation: sourceLocation)
}

/// A Steward cgroup tree under a fresh directory below the test process's own cgroups; the caller
/// tears it down.
public func scratchCgroupTree(layout: HostLayout? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> CgroupTree {
    expectRealCgroupsTag(sourceLocation: sourceLocation)
    return try CgroupTree(layout: layout ?? HostLayout.current(), root: "steward-test-\(UInt32.random(in: 0 ... .max))")
}

/// A supervisor whose cgroups live under a fresh directory below the test process's own cgroup,
/// shut down and removed when `body` returns or throws.
@discardableResult
public func withSupervisor<T>(
    _ services: [ServiceConfiguration],
    sink: CollectingSink = CollectingSink(),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (Supervisor, CollectingSink) async throws -> T
) async throws -> T {
    expectRealCgroupsTag(sourceLocation: sourceLocation)
    let root = "steward-test-\(UInt32.random(in: 0 ... .max))"
    let supervisor = try Supervisor(
        configuration: StewardConfiguration(cgroupRoot: root, services: services),
        sink: sink,
        logger: Logger(label: "steward-test")
    )
    let result: T
    do {
        await supervisor.start()
        result = try await body(supervisor, sink)
    } catch {
        await supervisor.shutdown()
        throw error
    }
    await supervisor.shutdown()
    for directory in [supervisor.tree.v2Root].compactMap({ $0 }) + supervisor.tree.v1Roots.map(\.path) {
        #expect(!FileManager.default.fileExists(atPath: directory), "cgroup \(directory) left behind")
    }
    return result
}

public func service(
    _ name: String,
    _ script: String,
    restart: RestartPolicy = .never,
    stopTimeout: Duration = .seconds(5),
    autostart: Bool = true,
    anonLimitBytes: UInt64? = nil,
    // Every run counts as a quick one (reset_after far above any test): a delay or a count a test
    // checks never depends on how long a run happened to take on this machine.
    backoff: BackoffPolicy = BackoffPolicy(initialDelay: .milliseconds(20), maximumDelay: .seconds(1), resetAfter: .seconds(3600), startLimit: 0)
) -> ServiceConfiguration {
    ServiceConfiguration(
        name: name, command: ["/bin/sh", "-c", script], restart: restart, stopTimeout: stopTimeout, autostart: autostart,
        backoff: backoff, memory: MemoryGuardConfiguration(anonLimitBytes: anonLimitBytes)
    )
}

/// True while `pid` names a live process (a zombie counts as gone).
public func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}

/// A flag one task sets and another polls.
public final class Flag: Sendable {
    private let value = Atomic(false)
    public init() {}
    public var isSet: Bool { value.load(ordering: .relaxed) }
    public func set() { value.store(true, ordering: .relaxed) }
}

/// A TCP socket bound to 127.0.0.1 on a port the kernel picked (listening, if asked); the caller
/// closes it.
public func loopbackSocket(listening: Bool) throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EMFILE) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound, !listening || listen(fd, 1) == 0 else {
        let error = POSIXError(POSIXErrorCode(rawValue: errno) ?? .EADDRINUSE)
        close(fd)
        throw error
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
public func freeLoopbackPort() throws -> Int {
    let (fd, port) = try loopbackSocket(listening: false)
    close(fd)
    return port
}
