import CgroupFS
import CgroupStats
import StewardConfig
import StewardCore
import StewardTestSupport
import Testing
@testable import StewardMetrics

/// Services whose cgroups were read on real kernels (the fixtures), as the collector sees them.
enum FixtureReadings {
    /// Hybrid host: v1 memory with hierarchical totals, v2 tree for cpu.stat and PSI; an OOM kill happened.
    static func hybrid() throws -> CgroupSample {
        let file = { (name: String) in try Fixture.text("hybrid-host-files/" + name) }
        return CgroupSample(
            memory: try MemoryClasses.v1(
                stat: MemoryStat(parsing: file("memory.stat"), file: "memory.stat", version: .v1),
                usageInBytes: SingleValue.integer(file("memory.usage_in_bytes"), file: "memory.usage_in_bytes"),
                kmemUsageInBytes: SingleValue.integer(file("memory.kmem.usage_in_bytes"), file: "memory.kmem.usage_in_bytes")
            ),
            cpu: try CPUStat(parsing: file("cpu.stat"), file: "cpu.stat"),
            pids: try SingleValue.integer(file("pids.current"), file: "pids.current"),
            oomKills: try MemoryEvents(parsing: file("memory.oom_control.after-oom"), file: "memory.oom_control").oomKill,
            memoryPressure: try Pressure(parsing: file("memory.pressure"), file: "memory.pressure")
        )
    }

    /// Pure v2: 300 MiB of page cache plus a 100 MiB anon holder.
    static func v2() throws -> CgroupSample {
        let file = { (name: String) in try Fixture.text("v2-memory-stat/plus-anon100." + name) }
        return CgroupSample(
            memory: try MemoryClasses.v2(
                stat: MemoryStat(parsing: file("memory.stat"), file: "memory.stat", version: .v2),
                current: SingleValue.integer(file("memory.current"), file: "memory.current"),
                swapCurrent: SingleValue.integer(file("memory.swap.current"), file: "memory.swap.current")
            ),
            cpu: try CPUStat(parsing: file("cpu.stat"), file: "cpu.stat"),
            pids: try SingleValue.integer(file("pids.current"), file: "pids.current"),
            oomKills: try MemoryEvents(parsing: file("memory.events"), file: "memory.events").oomKill,
            memoryPressure: try Pressure(parsing: file("memory.pressure"), file: "memory.pressure")
        )
    }

    static func all() throws -> [ServiceReading] {
        // A host without swap or kmem accounting, PSI or a pids hierarchy, where cpu.stat failed to parse.
        let memory = try #require(try hybrid().memory)
        let partial = CgroupSample(
            memory: MemoryClasses(anonBytes: memory.anonBytes, swapBytes: nil, fileBytes: memory.fileBytes, shmemBytes: memory.shmemBytes,
                                  activeFileBytes: memory.activeFileBytes, inactiveFileBytes: memory.inactiveFileBytes, kernelBytes: nil,
                                  usageBytes: memory.usageBytes),
            oomKills: 0,
            errors: [CgroupParseError(file: "cpu.stat", line: 1, message: "expected 'key value', got 'garbage'")]
        )
        let up = ServiceReading.Supervision(state: .running, isUp: true, startTimeSeconds: 1_700_000_000.25, restarts: [.exit: 2, .anonMemory: 1])
        return [
            ServiceReading(name: "api", supervision: up, anonLimitBytes: 64 << 20,
                           resources: ResourceLimits(pidsMax: 512, cpuWeight: 200, cpuMaxPercent: 150), cgroup: try hybrid()),
            // Between runs: no cgroup, but the ended runs' counters (its first run was OOM-killed).
            ServiceReading(name: "batch", supervision: .init(state: .backoff, isUp: false, startTimeSeconds: 1_700_000_100, restarts: [.signal: 1]),
                           anonLimitBytes: nil, cgroup: nil,
                           counters: CgroupCounters(cpuUserSeconds: 1.5, cpuSystemSeconds: 0.25, oomKills: 1)),
            ServiceReading(name: "partial", supervision: up, anonLimitBytes: nil, cgroup: partial),
            ServiceReading(name: "web", supervision: up, anonLimitBytes: nil, cgroup: try v2()),
        ]
    }
}

@Suite("Per-service families")
struct ServiceMetricsTests {
    @Test("the families of services read on real kernels match the golden text")
    func golden() throws {
        try Golden.check(Exposition.render(ServiceMetrics.families(FixtureReadings.all()), as: .text), against: "services.prom")
    }

    @Test("every sample's family has HELP and TYPE before it, and each family is one contiguous block")
    func helpAndTypeEverywhere() throws {
        let families = try ServiceMetrics.families(FixtureReadings.all())
            + ProcessReading(cpuSeconds: 1, residentBytes: 2, virtualBytes: 3, startTimeSeconds: 4, openFds: 5, maxFds: 6).families
        for format in [ExpositionFormat.text, .openMetrics] {
            var described: [String: Set<String>] = [:]
            var finished: Set<String> = []
            var current: String?
            for line in Exposition.render(families, as: format).split(separator: "\n") where line != "# EOF" {
                let words = line.split(separator: " ")
                if line.hasPrefix("# ") {
                    let name = String(words[2])
                    #expect(!finished.contains(name), "\(name) described twice")
                    if name != current, let current { finished.insert(current) }
                    current = name
                    described[name, default: []].insert(String(words[1]))
                    #expect(words.count > 3, "empty \(words[1]) for \(name)")
                    continue
                }
                let sampleName = String(line.prefix { $0 != "{" && $0 != " " })
                let family = format == .openMetrics && sampleName.hasSuffix("_total") ? String(sampleName.dropLast(6)) : sampleName
                #expect(family == current, "\(sampleName) outside its family's block")
                #expect(described[family] == ["HELP", "TYPE"], "\(sampleName) lacks HELP or TYPE")
            }
        }
    }

    @Test("absent values are left out, never 0")
    func absentIsAbsent() throws {
        let values = try MetricValues(ServiceMetrics.families(FixtureReadings.all()))
        for field in MemoryClasses.Field.allCases {
            #expect(values.value(ServiceMetrics.memoryName(field), ["service": "batch"]) == nil, "batch has no cgroup")
        }
        #expect(values.value("steward_service_up", ["service": "batch"]) == 0)
        #expect(values.value("steward_service_restarts_total", ["service": "batch", "reason": "signal"]) == 1)
        #expect(values.value("steward_service_start_time_seconds", ["service": "batch"]) == 1_700_000_100)
        for name in ["steward_service_memory_swap_bytes", "steward_service_memory_kernel_bytes", "steward_service_pids", "steward_service_anon_limit_bytes"] {
            #expect(values.value(name, ["service": "partial"]) == nil, "\(name)")
        }
        #expect(values.value("steward_service_cpu_seconds_total", ["service": "partial", "mode": "user"]) == nil)
        #expect(values.value("steward_service_memory_pressure_seconds_total", ["service": "partial", "kind": "some"]) == nil)
        #expect(values.value("steward_service_memory_anon_bytes", ["service": "partial"]) == 50_925_568)
        // A real 0 is reported as 0.
        #expect(values.value("steward_service_memory_swap_bytes", ["service": "web"]) == 0)
    }

    @Test("every restart reason has a sample for each supervised service and is explained in HELP")
    func restartReasons() throws {
        let families = try ServiceMetrics.families(FixtureReadings.all())
        let restarts = try #require(families.first { $0.name == "steward_service_restarts_total" })
        for reason in RestartReason.allCases {
            #expect(restarts.help.contains("\(reason.rawValue) ("), "\(reason) not explained")
            for service in ["api", "batch", "partial", "web"] {
                #expect(restarts.samples.contains { $0.labels == [Label("service", service), Label("reason", reason.rawValue)] })
            }
        }
    }

    @Test("memory families reuse the policy's HELP text")
    func memoryHelp() throws {
        let families = try ServiceMetrics.families(FixtureReadings.all())
        for field in MemoryClasses.Field.allCases {
            let family = try #require(families.first { $0.name == ServiceMetrics.memoryName(field) })
            #expect(family.help.hasPrefix(field.help))
        }
    }

    @Test("Steward's own start time from /proc: fields after the last ')' of the command name")
    func processStartTime() {
        let stat = "4242 (a) (b) S 1 4242 4242 0 -1 4194560 1000 0 0 0 12 34 0 0 20 0 3 0 123456 200000000 5000 18446744073709551615"
        #expect(ProcessReading.startTime(procSelfStat: stat, procStat: "cpu 1 2 3\nbtime 1700000000\nprocesses 9\n", ticksPerSecond: 100) == 1_700_001_234.56)
        #expect(ProcessReading.startTime(procSelfStat: stat, procStat: "cpu 1 2 3\n", ticksPerSecond: 100) == nil)
        #expect(ProcessReading.statmPages("51234 1234 567 8 0 900 0\n")! == (51234, 1234))
        #expect(ProcessReading.statmPages("") == nil)
    }

    @Test("inspect: the memory classes next to what other tools show, for a service with and without a cgroup")
    func inspectReport() throws {
        let values = try MetricValues(ServiceMetrics.families(FixtureReadings.all()))
        let now = 1_700_003_600.0
        try Golden.check(
            InspectReport.render(service: "api", values: values, now: now)
                + "----\n" + InspectReport.render(service: "web", values: values, now: now)
                + "----\n" + InspectReport.render(service: "batch", values: values, now: now)
                + "----\n" + InspectReport.render(service: "partial", values: values, errors: ["cpu.stat:1: expected 'key value', got 'garbage'"], now: now),
            against: "inspect.txt"
        )
    }
}
