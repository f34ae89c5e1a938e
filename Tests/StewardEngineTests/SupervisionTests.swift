import CgroupFS
import Foundation
import StewardConfig
import StewardCore
import StewardTestSupport
import Testing
@testable import StewardEngine

@Suite("Supervision on real cgroups", .tags(.realCgroups))
struct SupervisionTests {
    @Test("the service is in its own cgroups before it runs its first instruction")
    func placementBeforeExec() async throws {
        // `cat` reading /proc/self/cgroup is the program's first act: any window in which the
        // child ran outside its cgroup would show the parent's paths here.
        let placed = ServiceConfiguration(name: "placed", command: ["/bin/cat", "/proc/self/cgroup"], restart: .never)
        try await withSupervisor([placed]) { supervisor, sink in
            let ended = try await withDeadline("placed to exit") {
                await supervisor.waitUntil("placed") { if case .exited = $0.state { true } else { false } }
            }
            #expect(ended?.lastExit == .exited(0))
            // The exit can be seen before the pipe's last lines are read: wait for cat's last line
            // (one per hierarchy, numbered downwards: the v2 "0::" line last, or v1's hierarchy 1).
            let lastLine = supervisor.tree.layout.v2 != nil ? "0::" : "1:"
            _ = try await withDeadline("placed's output") { await sink.waitForLine { $0.service == "placed" && $0.text.hasPrefix(lastLine) } }
            let cgroupLines = sink.lines(of: "placed")
            let layout = supervisor.tree.layout
            let expected = ["memory", "pids", "cpu", "cpuacct"].compactMap { layout.v1Hierarchy(for: $0) }
            for hierarchy in expected {
                let line = try #require(cgroupLines.first { $0.split(separator: ":")[1].split(separator: ",").contains(Substring(hierarchy.controllers.sorted().first!)) })
                #expect(line.hasSuffix("/placed"), "v1 \(hierarchy.controllers): \(line)")
            }
            if layout.v2 != nil {
                let line = try #require(cgroupLines.first { $0.hasPrefix("0::") })
                #expect(line.hasSuffix("/placed"), "v2: \(line)")
            }
        }
    }

    @Test("on-failure restarts a failing service with growing delays; always restarts a clean exit too")
    func restartPolicies() async throws {
        let failing = service("failing", "echo start $(date +%s%N); exit 3", restart: .onFailure)
        let clean = service("clean", "exit 0", restart: .onFailure)
        let always = service("always", "exit 0", restart: .always)
        try await withSupervisor([failing, clean, always]) { supervisor, sink in
            let restarted = try await withDeadline("failing to restart 4 times") {
                await supervisor.waitUntil("failing") { ($0.restarts[.exit] ?? 0) >= 4 }
            }
            #expect(restarted?.lastExit == .exited(3))
            let cleanEnd = try await withDeadline("clean to end") {
                await supervisor.waitUntil("clean") { if case .exited = $0.state { true } else { false } }
            }
            #expect(cleanEnd?.restarts.isEmpty == true, "on-failure must not restart a clean exit")
            _ = try await withDeadline("always to restart a clean exit") {
                await supervisor.waitUntil("always") { ($0.restarts[.exit] ?? 0) >= 2 }
            }
            // Starts of `failing` are at least 20, 40, 80 ms apart (plus run time, which on a slow
            // machine can exceed the delays themselves, so only the lower bounds are asserted).
            try await withDeadline("4 starts printed") { await sink.waitForLines(of: "failing", count: 4) }
            let starts = sink.lines(of: "failing").compactMap { Int64($0.split(separator: " ")[1]) }
            let gaps = zip(starts.dropFirst(), starts).map { Double($0 - $1) / 1e6 }
            #expect(gaps.count >= 3)
            #expect(gaps[0] >= 20 && gaps[1] >= 40 && gaps[2] >= 80, "gaps in ms: \(gaps)")
        }
    }

    @Test("stop kills a double-forked setsid daemon with the rest of the cgroup")
    func stopKillsDaemonizedGrandchild() async throws {
        // setsid -f forks into a new session: the classic daemon that escapes process-group kills.
        let daemonizer = service("daemonizer", "setsid -f sh -c 'echo daemon $$; exec sleep 1000'; exec sleep 1000")
        try await withSupervisor([daemonizer]) { supervisor, sink in
            let line = try await withDeadline("the daemon's pid") { await sink.waitForLine { $0.text.hasPrefix("daemon ") } }
            let daemonPid = try #require(Int32(line.text.dropFirst("daemon ".count)))
            #expect(isAlive(daemonPid))
            let cgroup = try #require(supervisor.snapshot(of: "daemonizer")?.cgroup)
            #expect(try cgroup.pids().contains(daemonPid))
            await supervisor.shutdown()
            #expect(!isAlive(daemonPid), "the setsid grandchild survived the stop")
            #expect(!FileManager.default.fileExists(atPath: cgroup.trackingDirectory))
        }
    }

    @Test("a service that ignores SIGTERM is SIGKILLed after stop_timeout")
    func stopTimeoutEscalates() async throws {
        let stubborn = service("stubborn", "trap '' TERM; echo ready; while :; do sleep 0.05; done", stopTimeout: .milliseconds(300))
        try await withSupervisor([stubborn]) { supervisor, sink in
            _ = try await withDeadline("ready") { await sink.waitForLine { $0.text == "ready" } }
            let began = ContinuousClock.now
            #expect(await supervisor.stop("stubborn") == .accepted)
            let stopped = try await withDeadline("stubborn to stop") {
                await supervisor.waitUntil("stubborn") { $0.state == .idle }
            }
            let took = ContinuousClock.now - began
            #expect(stopped?.lastExit == .signaled(SIGKILL))
            #expect(took >= .milliseconds(300), "killed before the timeout: \(took)")
        }
    }

    @Test("a crash-looping service ends failed after its start limit, backing off between tries")
    func crashLoopEndsFailed() async throws {
        let backoff = BackoffPolicy(initialDelay: .milliseconds(20), maximumDelay: .seconds(1), resetAfter: .seconds(3600), startLimit: 5)
        let crasher = service("crasher", "exit 1", restart: .always, backoff: backoff)
        try await withSupervisor([crasher]) { supervisor, _ in
            let began = ContinuousClock.now
            let failed = try await withDeadline("crasher to fail") {
                await supervisor.waitUntil("crasher") { if case .failed = $0.state { true } else { false } }
            }
            let took = ContinuousClock.now - began
            // 5 runs, 4 restarts with 20 + 40 + 80 + 160 ms between them: no spinning.
            #expect(failed?.restarts[.exit] == 4)
            #expect(took >= .milliseconds(300), "took \(took)")
            #expect(supervisor.snapshot(of: "crasher")?.mainPid == nil)
        }
    }

    @Test("a spawn that fails names its stage and what it was working on, and is not retried forever", arguments: [
        (["/nonexistent/program"], nil, "execve /nonexistent/program: No such file or directory"),
        (["/bin/true"], "/nonexistent/directory", "changing to the working directory /nonexistent/directory: No such file or directory"),
    ] as [([String], String?, String)])
    func spawnFailure(command: [String], workingDirectory: String?, expected: String) async throws {
        let backoff = BackoffPolicy(initialDelay: .milliseconds(10), maximumDelay: .milliseconds(40), resetAfter: .seconds(5), startLimit: 3)
        let missing = ServiceConfiguration(name: "missing", command: command, restart: .always, workingDirectory: workingDirectory, backoff: backoff)
        try await withSupervisor([missing]) { supervisor, _ in
            let failed = try await withDeadline("missing to fail") {
                await supervisor.waitUntil("missing") { if case .failed = $0.state { true } else { false } }
            }
            #expect(failed?.state == .failed(.startLimit(runs: 3, shorterThan: .seconds(5), last: .spawnFailed(SpawnFailure(expected)))))
            #expect(failed?.restarts[.spawnFailure] == 2)
        }
    }

    @Test("pids_max caps a fork bomb while it runs; cpu_weight and cpu_max reach the kernel's files")
    func taskAndCPULimits() async throws {
        // Forks sleepers until the kernel refuses (pids.max), says how many it got, and keeps going.
        let bomb = #"exec perl -e '$| = 1; my $n = 0; while ($n < 200) { my $pid = fork(); last unless defined $pid; if (!$pid) { sleep 1000; exit } $n++ } print "forked $n\n"; sleep 1000'"#
        var capped = service("capped", bomb)
        capped.resources = ResourceLimits(pidsMax: 16, cpuWeight: 50, cpuMaxPercent: 150)
        try await withSupervisor([capped]) { supervisor, sink in
            let line = try await withDeadline("the bomb to hit the cap") { await sink.waitForLine { $0.text.hasPrefix("forked ") } }
            let forked = try #require(Int(line.text.dropFirst("forked ".count)))
            #expect(forked < 16, "the shell itself is one of the 16 tasks: \(forked) sleepers")
            let cgroup = try #require(supervisor.snapshot(of: "capped")?.cgroup)
            #expect(try cgroup.pids().count <= 16)
            #expect(supervisor.snapshot(of: "capped")?.isUp == true, "hitting the cap costs the service nothing else")
            let read = { (directory: String?, file: String) in try CgroupFile.readText(try #require(directory) + "/" + file) }
            if cgroup.mode == .unified {
                #expect(try read(cgroup.v2Directory, "pids.max") == "16\n")
                #expect(try read(cgroup.v2Directory, "cpu.weight") == "50\n")
                #expect(try read(cgroup.v2Directory, "cpu.max") == "150000 100000\n")
            } else {
                #expect(try read(cgroup.v1Directory(for: "pids"), "pids.max") == "16\n")
                #expect(try read(cgroup.v1Directory(for: "cpu"), "cpu.shares") == "512\n")
                #expect(try read(cgroup.v1Directory(for: "cpu"), "cpu.cfs_quota_us") == "150000\n")
                #expect(try read(cgroup.v1Directory(for: "cpu"), "cpu.cfs_period_us") == "100000\n")
            }
        }
    }

    @Test("a line without a newline is cut at the line limit, not buffered without bound")
    func hugeLineIsBounded() async throws {
        let printer = service("printer", "head -c 100000 /dev/zero | tr '\\\\0' x; echo; echo done")
        try await withSupervisor([printer]) { supervisor, sink in
            _ = try await withDeadline("done") { await sink.waitForLine { $0.text == "done" } }
            let pieces = sink.lines(of: "printer").dropLast()
            #expect(pieces.reduce(0) { $0 + $1.count } == 100_000)
            #expect(pieces.allSatisfy { $0.count <= 16 * 1024 })
        }
    }

    @Test("orphans re-parented to Steward (a subreaper) are reaped, not left as zombies")
    func orphansAreReaped() async throws {
        // The inner shell starts a sleep and exits at once: the sleep is orphaned and re-parented
        // to the test process (Steward's reaper made it a subreaper).
        let orphaner = service("orphaner", "sh -c 'sleep 1000 & echo orphan $!'; exec sleep 1000")
        try await withSupervisor([orphaner]) { _, sink in
            let line = try await withDeadline("the orphan's pid") { await sink.waitForLine { $0.text.hasPrefix("orphan ") } }
            let orphan = try #require(Int32(line.text.dropFirst("orphan ".count)))
            // Re-parenting and reaping happen asynchronously: poll /proc with a deadline.
            let deadline = ContinuousClock.now + Duration.seconds(10).scaled
            func parent() -> String? {
                (try? String(contentsOfFile: "/proc/\(orphan)/status", encoding: .utf8))?
                    .split(separator: "\n").first { $0.hasPrefix("PPid:") }.map { String($0.dropFirst(5)).trimmingCharacters(in: .whitespaces) }
            }
            while parent() != "\(getpid())" && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(parent() == "\(getpid())", "the orphan was not re-parented to the supervisor")
            kill(orphan, SIGKILL)
            while FileManager.default.fileExists(atPath: "/proc/\(orphan)") && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(!FileManager.default.fileExists(atPath: "/proc/\(orphan)"), "orphan \(orphan) is still a zombie")
        }
    }
}
