import CgroupFS
import Foundation
import Logging
import StewardConfig
import StewardCore
import StewardEngine
import Synchronization
import Testing

/// Real-kernel captures in Tests/Fixtures, located from this file's path like the other test targets do.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }
}

/// Expected outputs next to the tests. `STEWARD_UPDATE_GOLDEN=1 swift test ...` rewrites them from
/// the actual output (then review the diff).
enum Golden {
    static func check(_ actual: String, against name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden").appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["STEWARD_UPDATE_GOLDEN"] == "1" {
            try actual.write(to: url, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(actual == expected, "differs from Golden/\(name)", sourceLocation: sourceLocation)
    }
}

let mebibyte = 1024.0 * 1024

/// Lets a test wait for a line a service prints instead of sleeping.
final class LineWaiter: OutputSink {
    private let state = Mutex<(lines: [String], waiters: [(String, CheckedContinuation<Void, Never>)])>(([], []))

    func write(service: String, stream: ServiceStream, line: [UInt8]) {
        let text = "\(service): " + String(decoding: line, as: UTF8.self)
        let ready = state.withLock { state in
            state.lines.append(text)
            let ready = state.waiters.filter { $0.0 == text }.map(\.1)
            state.waiters.removeAll { $0.0 == text }
            return ready
        }
        ready.forEach { $0.resume() }
    }

    /// Returns once `service` has printed exactly `line`.
    func wait(for line: String, from service: String) async {
        let text = "\(service): \(line)"
        await withCheckedContinuation { continuation in
            state.withLock { state in
                if state.lines.contains(text) { continuation.resume() } else { state.waiters.append((text, continuation)) }
            }
        }
    }
}

/// Fails the test instead of hanging when an awaited event never comes.
func withDeadline<T: Sendable>(
    _ what: String, _ limit: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        guard let value = try await group.next() ?? nil else {
            Issue.record("timed out after \(limit) waiting for \(what)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        group.cancelAll()
        return value
    }
}

/// A supervisor whose cgroups live under a fresh directory below the test process's own cgroups;
/// it is shut down and its cgroups removed when `body` returns or throws.
func withSupervisor(
    _ services: [ServiceConfiguration], sink: LineWaiter = LineWaiter(),
    _ body: (Supervisor, LineWaiter) async throws -> Void
) async throws {
    let supervisor = try Supervisor(
        configuration: StewardConfiguration(cgroupRoot: "steward-test-\(UInt32.random(in: 0 ... .max))", services: services),
        output: .lines(sink), logger: Logger(label: "steward-metrics-test")
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

func shell(_ name: String, _ script: String, restart: RestartPolicy = .never, anonLimitBytes: UInt64? = nil, autostart: Bool = true,
           backoff: BackoffPolicy = BackoffPolicy(initialDelay: .milliseconds(20), maximumDelay: .seconds(1), resetAfter: .seconds(10), startLimit: 0)) -> ServiceConfiguration {
    ServiceConfiguration(
        name: name, command: ["/bin/sh", "-c", script], restart: restart, stopTimeout: .seconds(5), autostart: autostart,
        backoff: backoff, memory: MemoryGuardConfiguration(anonLimitBytes: anonLimitBytes)
    )
}
