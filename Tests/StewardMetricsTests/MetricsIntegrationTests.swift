import Foundation
import Glibc
import StewardConfig
import StewardCore
import StewardEngine
import StewardTestSupport
import Testing
@testable import StewardMetrics

/// The metrics of real services in real cgroups, read the way a scrape reads them.
@Suite("Metrics of real services", .tags(.realCgroups))
struct MetricsIntegrationTests {
    static func scrape(_ collector: MetricsCollector) -> MetricValues {
        MetricValues(collector.collect())
    }

    @Test("page cache written and read again shows in usage and working set, while anon stays the service's own")
    func pageCache() async throws {
        // Page cache needs a disk filesystem: a tmpfs file would be shmem. By default the package
        // directory (ext4 here); STEWARD_TEST_DISK_DIR names another (/mnt/disk in Tests/vm/run --disk).
        let disk = ProcessInfo.processInfo.environment["STEWARD_TEST_DISK_DIR"] ?? FileManager.default.currentDirectoryPath
        let directory = disk + "/.steward-test-cache-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (_, filesystem) = try runTool("/usr/bin/stat", ["--file-system", "--format=%T", directory], input: "")
        try #require(!filesystem.hasPrefix("tmpfs"), "\(directory) is on tmpfs: page cache would count as shmem")

        let reader = service("reader", "head -c 300M /dev/zero > \(directory)/data && cat \(directory)/data > /dev/null && cat \(directory)/data > /dev/null && echo ready && exec sleep 1000")
        try await withSupervisor([reader]) { supervisor, lines in
            try await withDeadline("300 MiB written and read twice", limit: .seconds(120)) { await lines.wait(for: "ready", from: "reader") }
            let values = Self.scrape(MetricsCollector(supervisor: supervisor))
            let label = ["service": "reader"]
            let usage = try #require(values.value("steward_service_memory_usage_bytes", label))
            let workingSet = try #require(values.value("steward_service_memory_working_set_bytes", label))
            let file = try #require(values.value("steward_service_memory_file_bytes", label))
            let anon = try #require(values.value("steward_service_memory_anon_bytes", label))
            #expect(usage >= 300 * mebibyte, "usage \(usage / mebibyte) MiB")
            #expect(file >= 300 * mebibyte, "file \(file / mebibyte) MiB")
            #expect(workingSet >= 250 * mebibyte, "re-read cache is active, so the working set keeps it: \(workingSet / mebibyte) MiB")
            #expect(anon < 16 * mebibyte, "sh, head, cat and sleep hold little anon: \(anon / mebibyte) MiB")
            #expect(values.value("steward_service_memory_shmem_bytes", label) ?? .infinity < 4 * mebibyte)
        }
    }

    @Test("anon memory a service holds is within 10% of its true size, and each scrape reads it afresh")
    func anonMemory() async throws {
        // Perl's string repetition writes every byte, so each string is resident; the size is in a
        // variable so that it is not folded into a constant that would be copied.
        let perl = """
            $| = 1; my $go = 0; $SIG{USR1} = sub { $go = 1 };
            my $n = 50 << 20; my $first = "a" x $n; print "holding 50\\n";
            sleep 1 until $go;
            my $second = "b" x $n; print "holding 100\\n"; sleep 1000;
            """
        let holder = ServiceConfiguration(name: "holder", command: ["perl", "-e", perl], restart: .never)
        try await withSupervisor([holder]) { supervisor, lines in
            let collector = MetricsCollector(supervisor: supervisor)
            let label = ["service": "holder"]
            try await withDeadline("50 MiB") { await lines.wait(for: "holding 50", from: "holder") }
            let first = try #require(Self.scrape(collector).value("steward_service_memory_anon_bytes", label))
            #expect(abs(first - 50 * mebibyte) <= 5 * mebibyte, "\(first / mebibyte) MiB")

            #expect(await supervisor.signal(SIGUSR1, to: "holder") == .accepted)
            try await withDeadline("100 MiB") { await lines.wait(for: "holding 100", from: "holder") }
            let second = try #require(Self.scrape(collector).value("steward_service_memory_anon_bytes", label))
            #expect(abs(second - 100 * mebibyte) <= 10 * mebibyte, "\(second / mebibyte) MiB")
            #expect(abs(second - first - 50 * mebibyte) <= 2 * mebibyte, "the second scrape saw the new 50 MiB: \((second - first) / mebibyte) MiB")
        }
    }

    @Test("a file a service writes into /dev/shm is shmem (and file), not anon")
    func sharedMemory() async throws {
        let path = "/dev/shm/steward-test-\(UInt32.random(in: 0 ... .max))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = service("writer", "head -c 100M /dev/zero > \(path) && echo ready && exec sleep 1000")
        try await withSupervisor([writer]) { supervisor, lines in
            try await withDeadline("100 MiB in /dev/shm") { await lines.wait(for: "ready", from: "writer") }
            let values = Self.scrape(MetricsCollector(supervisor: supervisor))
            let label = ["service": "writer"]
            let shmem = try #require(values.value("steward_service_memory_shmem_bytes", label))
            #expect(abs(shmem - 100 * mebibyte) <= 10 * mebibyte, "\(shmem / mebibyte) MiB")
            #expect(try #require(values.value("steward_service_memory_file_bytes", label)) >= shmem)
            #expect(try #require(values.value("steward_service_memory_anon_bytes", label)) < 16 * mebibyte)
        }
    }

    @Test("a service waiting to restart, and one that has ended, keep their restart counters and report up 0 with no cgroup figures")
    func notRunning() async throws {
        let slowBackoff = BackoffPolicy(initialDelay: .seconds(300), maximumDelay: .seconds(300), resetAfter: .seconds(10), startLimit: 0)
        let services = [
            service("crashy", "exit 3", restart: .always, backoff: slowBackoff),
            service("done", "exit 0"),
            service("idle", "exec sleep 1000", autostart: false),
        ]
        try await withSupervisor(services) { supervisor, _ in
            _ = try await withDeadline("crashy to wait for its restart") {
                await supervisor.waitUntil("crashy") { if case .backoff = $0.state { true } else { false } }
            }
            _ = try await withDeadline("done to end") {
                await supervisor.waitUntil("done") { if case .exited = $0.state { true } else { false } }
            }
            let values = Self.scrape(MetricsCollector(supervisor: supervisor))
            for service in ["crashy", "done", "idle"] {
                let label = ["service": service]
                #expect(values.value("steward_service_up", label) == 0, "\(service)")
                #expect(values.value("steward_service_memory_anon_bytes", label) == nil, "\(service) has no cgroup")
                #expect(values.value("steward_service_pids", label) == nil)
            }
            // Counters outlive the cgroup of the run that counted them; a service that never ran has none.
            #expect(values.value("steward_service_cpu_seconds_total", ["service": "crashy", "mode": "user"]) != nil)
            #expect(values.value("steward_service_oom_kills_total", ["service": "done"]) == 0)
            #expect(values.value("steward_service_cpu_seconds_total", ["service": "idle", "mode": "user"]) == nil)
            for (service, state) in [("crashy", "backoff"), ("done", "exited"), ("idle", "idle")] {
                #expect(values.value("steward_service_state", ["service": service, "state": state]) == 1, "\(service) is \(state)")
                #expect(values.value("steward_service_state", ["service": service, "state": "running"]) == 0)
            }
            #expect(values.value("steward_service_restarts_total", ["service": "crashy", "reason": "exit"]) == 1)
            #expect(values.value("steward_service_restarts_total", ["service": "done", "reason": "exit"]) == 0)
            #expect(values.value("steward_service_restarts_total", ["service": "idle", "reason": "exit"]) == 0)
            #expect(values.value("steward_service_start_time_seconds", ["service": "crashy"]) != nil)
            #expect(values.value("steward_service_start_time_seconds", ["service": "idle"]) == nil, "never started")
            #expect(values.value("steward_scrape_errors") == 0)
        }
    }

    @Test("an OOM kill of the main process stays counted after its run's cgroup is removed")
    func oomKillOutlivesTheRun() async throws {
        // No swap on the test hosts, so 256 MiB against a 32 MiB hard limit is an OOM kill.
        var hog = service("hog", "exec perl -e '$n = 256 << 20; $x = \"a\" x $n; sleep 1000'", restart: .always,
                          backoff: BackoffPolicy(initialDelay: .seconds(300), maximumDelay: .seconds(300), resetAfter: .seconds(10), startLimit: 0))
        hog.memory.maxBytes = 32 << 20
        try await withSupervisor([hog]) { supervisor, _ in
            _ = try await withDeadline("the OOM-killed hog to wait for its restart") {
                await supervisor.waitUntil("hog") { if case .backoff = $0.state { true } else { false } }
            }
            let values = Self.scrape(MetricsCollector(supervisor: supervisor))
            let label = ["service": "hog"]
            #expect(values.value("steward_service_memory_anon_bytes", label) == nil, "the run's cgroup is gone")
            #expect(values.value("steward_service_oom_kills_total", label) == 1)
            #expect(values.value("steward_service_restarts_total", ["service": "hog", "reason": "signal"]) == 1)
            #expect(values.value("steward_service_state", ["service": "hog", "state": "backoff"]) == 1)
        }
    }

    @Test("CPU time adds up over restarts and never goes backwards while runs come and go under the scrapes")
    func countersAcrossRestarts() async throws {
        // Each run burns 50 ms of CPU and exits; the next starts 10 ms later. Perl starts in a few ms, even
        // in an emulated guest, so one run alone cannot account for 8 runs' worth.
        let burner = service("burner", "exec perl -e '1 until (times)[0] + (times)[1] >= 0.05'", restart: .always,
                             backoff: BackoffPolicy(initialDelay: .milliseconds(10), maximumDelay: .milliseconds(10), resetAfter: .seconds(10), startLimit: 0))
        try await withSupervisor([burner]) { supervisor, _ in
            let collector = MetricsCollector(supervisor: supervisor)
            let restarts = Flag()
            let waiter = Task {
                _ = await supervisor.waitUntil("burner") { $0.restarts[.exit, default: 0] >= 8 }
                restarts.set()
            }
            defer { waiter.cancel() }
            @Sendable func cpuSeconds() -> Double {
                let values = Self.scrape(collector)
                return ["user", "system"].reduce(0) { $0 + (values.value("steward_service_cpu_seconds_total", ["service": "burner", "mode": $1]) ?? 0) }
            }
            let (scrapes, backwards) = try await withDeadline("8 restarts") {
                var previous = 0.0
                var scrapes = 0
                var backwards: [String] = []
                while !restarts.isSet {
                    let total = cpuSeconds()
                    if total < previous { backwards.append("scrape \(scrapes): \(total) s after \(previous) s") }
                    previous = total
                    scrapes += 1
                    await Task.yield()
                }
                return (scrapes, backwards)
            }
            #expect(backwards.isEmpty, "\(backwards)")
            let total = cpuSeconds()
            #expect(total >= 8 * 0.05, "8 ended runs of 50 ms CPU each: \(total) s over \(scrapes) scrapes")
        }
    }

    @Test("a real scrape passes promtool check metrics and every sample has HELP and TYPE")
    func promtool() async throws {
        let services = [
            service("web", "echo ready; exec sleep 1000", anonLimitBytes: 64 << 20),
            service("ended", "exit 1"),
        ]
        try await withSupervisor(services) { supervisor, lines in
            try await withDeadline("ready") { await lines.wait(for: "ready", from: "web") }
            _ = try await withDeadline("ended to fail") {
                await supervisor.waitUntil("ended") { if case .failed = $0.state { true } else { false } }
            }
            let families = MetricsCollector(supervisor: supervisor).collect()
            let text = Exposition.render(families, as: .text)
            for name in ["steward_service_memory_anon_bytes", "steward_service_cpu_seconds_total", "steward_service_anon_limit_bytes",
                         "process_resident_memory_bytes", "steward_scrape_duration_seconds", "steward_service_restarts_total"] {
                #expect(text.contains("\n\(name){") || text.contains("\n\(name) "), "\(name) missing")
            }
            let sampleNames = Set(text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { String($0.prefix { $0 != "{" && $0 != " " }) })
            for name in sampleNames {
                #expect(text.contains("# HELP \(name) ") && text.contains("# TYPE \(name) "), "\(name)")
            }
            let (status, output) = try runTool("/usr/bin/promtool", ["check", "metrics"], input: text)
            #expect(status == 0 && output.isEmpty, "promtool: \(output)")
        }
    }
}

/// Runs a program with `input` on stdin; returns its exit status and everything it printed.
func runTool(_ executable: String, _ arguments: [String], input: String) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let stdin = Pipe()
    let output = Pipe()
    process.standardInput = stdin
    process.standardOutput = output
    process.standardError = output
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let printed = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: printed, as: UTF8.self))
}
