import CgroupFS
import CgroupStats
import Foundation
import StewardConfig
import StewardCore
import Synchronization
import StewardTestSupport
import Testing
@testable import StewardEngine

/// The memory guard on real cgroups, with short windows. Page-cache data lives in a directory on a
/// real disk (STEWARD_TEST_DISK_DIR, default below the working directory; never tmpfs, where files
/// count as shmem), written by the service itself so that its cgroup is charged for the cache.
@Suite("Memory guard on real cgroups", .tags(.realCgroups))
struct MemoryGuardTests {
    static let mib: UInt64 = 1 << 20

    static var dataDirectory: String {
        ProcessInfo.processInfo.environment["STEWARD_TEST_DISK_DIR"] ?? FileManager.default.currentDirectoryPath + "/.build"
    }

    /// A Python program that grows its heap by `mibPerStep` every `stepSeconds` and prints
    /// "held N" after each step; it prints "term <ns>" when it receives SIGTERM.
    static func leaker(mibPerStep: Int, stepSeconds: Double, maxMiB: Int = 4096) -> String {
        """
        import signal, sys, time
        def term(*_):
            print("term", time.time_ns(), flush=True); sys.exit(0)
        signal.signal(signal.SIGTERM, term)
        kept = []
        while len(kept) * \(mibPerStep) < \(maxMiB):
            b = bytearray(\(mibPerStep) << 20)
            b[::4096] = b"x" * len(b[::4096])
            kept.append(b)
            print("held", len(kept) * \(mibPerStep), flush=True)
            time.sleep(\(stepSeconds))
        time.sleep(1000)
        """
    }

    func guarded(_ name: String, _ command: [String], limitMiB: UInt64, window: Duration,
                 includesShmem: Bool = false, restart: RestartPolicy = .always) -> ServiceConfiguration {
        ServiceConfiguration(
            name: name, command: command, restart: restart, stopTimeout: .seconds(5),
            backoff: BackoffPolicy(initialDelay: .milliseconds(100), maximumDelay: .seconds(1), resetAfter: .seconds(60), startLimit: 0),
            memory: MemoryGuardConfiguration(anonLimitBytes: limitMiB * Self.mib, anonLimitFor: window,
                                             sampleInterval: .milliseconds(100), includesShmem: includesShmem)
        )
    }

    /// Samples a service's cgroup every 20 ms until `until` says stop; returns what it saw, each
    /// value with the time just before it was read.
    func watch(_ supervisor: Supervisor, _ name: String, until done: @escaping @Sendable () -> Bool) async -> [(ContinuousClock.Instant, MemoryClasses)] {
        var seen: [(ContinuousClock.Instant, MemoryClasses)] = []
        var reader: CgroupReader?
        while !done() {
            if reader == nil, let cgroup = supervisor.snapshot(of: name)?.cgroup {
                reader = CgroupReader(cgroup: cgroup, budget: DescriptorBudget(descriptors: 4))
            }
            let readAt = ContinuousClock.now
            if let memory = reader?.memory() { seen.append((readAt, memory)) }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return seen
    }

    @Test("the seed story: a backup that fills the page cache is never restarted")
    func pageCacheIsIgnored() async throws {
        let directory = Self.dataDirectory + "/steward-backup-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Writes 400 MiB, then tars it twice (re-read pages move to the active list).
        let script = """
            mkdir -p \(directory) && cd \(directory)
            for i in 1 2 3 4 5 6 7 8; do head -c 52428800 /dev/zero > f$i; done
            for pass in 1 2; do tar cf - . | cat > /dev/null; echo pass $pass; done
            exec sleep 1000
            """
        let backup = guarded("backup", ["/bin/sh", "-c", script], limitMiB: 64, window: .milliseconds(300))
        try await withSupervisor([backup]) { supervisor, sink in
            let finished = Flag()
            async let samples = watch(supervisor, "backup") { finished.isSet }
            _ = try await withDeadline("two tar passes", limit: .seconds(120)) { await sink.waitForLine { $0.text == "pass 2" } }
            // A few more guard windows with the cache in place.
            try await Task.sleep(for: .seconds(1))
            finished.set()
            let seen = await samples
            let peakUsage = seen.map(\.1.usageBytes).max() ?? 0
            let peakAnon = seen.map(\.1.anonBytes).max() ?? 0
            #expect(peakUsage >= 5 * 64 * Self.mib, "usage never passed the limit many times over: \(peakUsage >> 20) MiB")
            #expect(peakAnon < 64 * Self.mib, "anon: \(peakAnon >> 20) MiB")
            #expect(seen.last.map { $0.1.activeFileBytes > 0 } == true, "re-read cache should be active")
            #expect(supervisor.snapshot(of: "backup")?.restarts.isEmpty == true)
        }
    }

    @Test("a leaker is restarted once its anon stayed above the limit for the whole window, and its reason is anon_memory")
    func leakerIsRestarted() async throws {
        let window: Duration = .seconds(2)
        let leaker = guarded("leaker", ["python3", "-c", Self.leaker(mibPerStep: 1, stepSeconds: 0.1)], limitMiB: 100, window: window)
        try await withSupervisor([leaker]) { supervisor, sink in
            let stopped = Flag()
            async let samples = watch(supervisor, "leaker") { stopped.isSet }
            let term = try await withDeadline("SIGTERM from the guard") { await sink.waitForLine { $0.text.hasPrefix("term ") } }
            let termAt = ContinuousClock.now - Duration.seconds(Date().timeIntervalSince1970 - Double(term.text.split(separator: " ")[1])! / 1e9)
            stopped.set()
            let seen = await samples
            let restarted = try await withDeadline("the restart") {
                await supervisor.waitUntil("leaker") { $0.restarts[.anonMemory] == 1 }
            }
            #expect(restarted?.anonLimitLastTriggerSeconds != nil)
            // The leak only grows until SIGTERM, so once this test read anon at or below the limit,
            // any stretch above it began later: SIGTERM must come at least a window after that read,
            // however late either sampler ran. Only reads before the first one above the limit count
            // (after SIGTERM the exiting process frees its heap). How soon after the window SIGTERM
            // comes is a speed, measured in Benchmarks/memory_guard.py, not asserted here.
            let isAbove: ((ContinuousClock.Instant, MemoryClasses)) -> Bool = { $0.1.guardedAnonBytes(includingShmem: false) > 100 * Self.mib }
            let firstAbove = try #require(seen.firstIndex(where: isAbove), "this test never read the leak above the limit")
            let lastBelow = try #require(seen[..<firstAbove].last?.0, "this test's first read was already above the limit")
            print("memory guard: SIGTERM \(termAt - lastBelow) after the last sample below the limit (window \(window), sampling 100 ms)")
            #expect(termAt - lastBelow >= window, "restarted before the window passed: \(termAt - lastBelow)")
        }
    }

    @Test("a child's leak counts for the whole cgroup, and the restart kills the child")
    func leakingChild() async throws {
        let script = "python3 -c '\(Self.leaker(mibPerStep: 5, stepSeconds: 0.05))' & echo child $!; wait"
        let parent = guarded("parent", ["/bin/sh", "-c", script], limitMiB: 80, window: .milliseconds(300))
        try await withSupervisor([parent]) { supervisor, sink in
            let line = try await withDeadline("the child's pid") { await sink.waitForLine { $0.text.hasPrefix("child ") } }
            let child = try #require(Int32(line.text.dropFirst("child ".count)))
            _ = try await withDeadline("a memory restart") {
                await supervisor.waitUntil("parent") { ($0.restarts[.anonMemory] ?? 0) >= 1 }
            }
            #expect(!isAlive(child), "the leaking child survived the restart")
        }
    }

    @Test("spikes shorter than the window restart nothing")
    func shortSpikes() async throws {
        // How long a spike lasts is up to the machine: touching and freeing 150 MiB takes far longer
        // on a loaded one. So the service measures each spike itself (from before the allocation to
        // after the free: anon can be above the limit only inside that span), and a run only counts
        // if every spike was at most half the window. Otherwise it proved nothing, and the next try
        // takes a window of four times the longest spike measured. The pause after each spike is a
        // whole window, so two spikes cannot look like one to the guard.
        var window: Duration = .seconds(3)  // a spike takes 0.6 to 2.3 s on a loaded 2-core host
        for attempt in 1 ... 3 {
            let pause = Double(window.components.seconds) + Double(window.components.attoseconds) / 1e18
            let spiker = """
                import time
                for i in range(2):
                    began = time.monotonic_ns()
                    b = bytearray(150 << 20); b[::4096] = b"x" * len(b[::4096])
                    time.sleep(0.2)
                    del b
                    print("spike", time.monotonic_ns() - began, flush=True)
                    time.sleep(\(pause))
                print("done", flush=True)
                time.sleep(1000)
                """
            let service = guarded("spiker", ["python3", "-c", spiker], limitMiB: 100, window: window)
            let (restarts, spikes) = try await withSupervisor([service]) { supervisor, sink in
                _ = try await withDeadline("two spikes", limit: .seconds(60) + window * 3) { await sink.waitForLine { $0.text == "done" } }
                let spikes = sink.lines(of: "spiker").compactMap { $0.hasPrefix("spike ") ? Int64($0.dropFirst(6)).map(Duration.nanoseconds) : nil }
                return (supervisor.snapshot(of: "spiker")?.restarts ?? [:], spikes)
            }
            let longest = try #require(spikes.max())
            #expect(spikes.count == 2)
            if longest * 2 <= window {
                #expect(restarts.isEmpty, "spikes of \(spikes) against a window of \(window)")
                return
            }
            print("attempt \(attempt): a spike took \(longest), not clearly shorter than the \(window) window; again with \(longest * 4)")
            window = longest * 4
        }
        Issue.record("no attempt had spikes shorter than half its window")
    }

    @Test("shmem is reported but not guarded by default; opted in, it restarts once and a leftover tmpfs file does not loop")
    func shmem() async throws {
        let file = "/dev/shm/steward-test-\(UUID().uuidString)"
        defer { unlink(file) }
        // Writes 100 MiB to tmpfs only if the file is not there yet, then idles.
        let script = "[ -f \(file) ] || { head -c 104857600 /dev/zero > \(file); echo wrote; }; echo idle; exec sleep 1000"
        let reported = guarded("shm-default", ["/bin/sh", "-c", script.replacingOccurrences(of: file, with: file + "-a")],
                               limitMiB: 64, window: .milliseconds(300))
        let optedIn = guarded("shm-opted", ["/bin/sh", "-c", script], limitMiB: 64, window: .milliseconds(300), includesShmem: true)
        defer { unlink(file + "-a") }
        try await withSupervisor([reported, optedIn]) { supervisor, sink in
            // (The opted-in service may be restarted before it finishes writing, on a slow machine;
            // the file is then partial but still above the limit, and the second run finds it.)
            _ = try await withDeadline("the default service wrote") {
                await sink.waitForLine { $0.service == "shm-default" && $0.text == "idle" }
            }
            let cgroup = try #require(supervisor.snapshot(of: "shm-default")?.cgroup)
            let memory = try #require(CgroupReader(cgroup: cgroup, budget: DescriptorBudget(descriptors: 4)).memory())
            #expect(memory.shmemBytes >= 100 * Self.mib, "shmem \(memory.shmemBytes >> 20) MiB")
            #expect(memory.anonBytes < 64 * Self.mib)
            _ = try await withDeadline("the opted-in service restarted") {
                await supervisor.waitUntil("shm-opted") { $0.restarts[.anonMemory] == 1 && $0.isUp }
            }
            // The second run finds the file and writes nothing: several windows pass without a restart.
            _ = try await withDeadline("second run idle") {
                await sink.waitForLine { $0.service == "shm-opted" && $0.text == "idle" }
            }
            try await Task.sleep(for: Duration.seconds(1).scaled)
            #expect(supervisor.snapshot(of: "shm-opted")?.restarts[.anonMemory] == 1)
            #expect(supervisor.snapshot(of: "shm-default")?.restarts.isEmpty == true)
        }
    }

    @Test("optional kernel limits (high, max) are written to the service's cgroup before it starts")
    func kernelLimits() async throws {
        var limited = service("limited", "echo up; exec sleep 1000")
        limited.memory = MemoryGuardConfiguration(highBytes: 200 * Self.mib, maxBytes: 256 * Self.mib)
        try await withSupervisor([limited]) { supervisor, sink in
            _ = try await withDeadline("up") { await sink.waitForLine { $0.text == "up" } }
            let cgroup = try #require(supervisor.snapshot(of: "limited")?.cgroup)
            let directory = try #require(cgroup.memoryDirectory)
            let (high, max) = cgroup.mode == .unified ? ("memory.high", "memory.max") : ("memory.soft_limit_in_bytes", "memory.limit_in_bytes")
            #expect(try CgroupFile.readText(directory + "/" + high) == "\(200 * Self.mib)\n")
            #expect(try CgroupFile.readText(directory + "/" + max) == "\(256 * Self.mib)\n")
        }
    }
}
