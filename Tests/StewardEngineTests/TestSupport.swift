import CgroupFS
import Foundation
import Logging
import StewardConfig
import StewardCore
import Synchronization
import Testing
@testable import StewardEngine

/// Collects what services print, and lets a test wait for a line instead of sleeping.
final class CollectingSink: OutputSink {
    struct Line: Sendable {
        var service: String
        var stream: ServiceStream
        var text: String
    }

    /// A waiter's predicate sees the new line and every line so far (the lock is held: it must
    /// not call back into the sink).
    private let state = Mutex<(lines: [Line], waiters: [(@Sendable (Line, [Line]) -> Bool, CheckedContinuation<Line, Never>)])>(([], []))

    func write(service: String, stream: ServiceStream, line: [UInt8]) {
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

    var lines: [Line] { state.withLock { $0.lines } }

    func lines(of service: String) -> [String] {
        lines.filter { $0.service == service }.map(\.text)
    }

    /// Returns the first line (already printed or to come) that matches.
    func waitForLine(_ predicate: @escaping @Sendable (Line) -> Bool) async -> Line {
        await waitForLine { line, _ in predicate(line) }
    }

    /// Returns once `service` has printed at least `count` lines.
    func waitForLines(of service: String, count: Int) async {
        await waitForLines(count: count) { $0.service == service }
    }

    /// Returns once at least `count` lines match.
    func waitForLines(count: Int, where matches: @escaping @Sendable (Line) -> Bool) async {
        _ = await waitForLine { _, all in all.count(where: matches) >= count }
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

/// Fails the test instead of hanging when an awaited event never comes.
func withDeadline<T: Sendable>(
    _ what: String,
    limit: Duration = .seconds(30),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @escaping @Sendable () async -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            Issue.record("timed out after \(limit) waiting for \(what)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        group.cancelAll()
        return value
    }
}

/// A supervisor whose cgroups live under a fresh directory below the test process's own cgroup,
/// shut down and removed when `body` returns or throws.
func withSupervisor(
    _ services: [ServiceConfiguration],
    sink: CollectingSink = CollectingSink(),
    _ body: (Supervisor, CollectingSink) async throws -> Void
) async throws {
    let root = "steward-test-\(UInt32.random(in: 0 ... .max))"
    let supervisor = try Supervisor(
        configuration: StewardConfiguration(cgroupRoot: root, services: services),
        sink: sink,
        logger: Logger(label: "steward-test")
    )
    do {
        await supervisor.start()
        try await body(supervisor, sink)
    } catch {
        await supervisor.shutdown()
        throw error
    }
    await supervisor.shutdown()
    for directory in [supervisor.tree.v2Root].compactMap({ $0 }) + supervisor.tree.v1Roots.map(\.path) {
        #expect(!FileManager.default.fileExists(atPath: directory), "cgroup \(directory) left behind")
    }
}

func service(
    _ name: String,
    _ script: String,
    restart: RestartPolicy = .never,
    stopTimeout: Duration = .seconds(5),
    backoff: BackoffPolicy = BackoffPolicy(initialDelay: .milliseconds(20), maximumDelay: .seconds(1), resetAfter: .seconds(10), startLimit: 0)
) -> ServiceConfiguration {
    ServiceConfiguration(name: name, command: ["/bin/sh", "-c", script], restart: restart, stopTimeout: stopTimeout, backoff: backoff)
}

/// True while `pid` names a live process (a zombie counts as gone).
func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}
