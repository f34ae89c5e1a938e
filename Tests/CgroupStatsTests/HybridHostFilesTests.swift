import StewardTestSupport
import Testing
@testable import CgroupStats

/// Files captured on the hybrid host by Tests/Fixtures/hybrid-host-files/capture.sh (see its README):
/// one busy cgroup seen from the v1 memory, cpuacct and pids hierarchies and from the v2 tree.
@Suite struct HybridHostFilesTests {
    static func text(_ name: String) throws -> String {
        try Fixture.text("hybrid-host-files/\(name)")
    }

    @Test func memoryClassesOfTheBusyCgroup() throws {
        let stat = try MemoryStat(parsing: Self.text("memory.stat"), file: "memory.stat", version: .v1)
        let usage = try SingleValue.integer(Self.text("memory.usage_in_bytes"), file: "memory.usage_in_bytes")
        let kmem = try SingleValue.integer(Self.text("memory.kmem.usage_in_bytes"), file: "memory.kmem.usage_in_bytes")
        #expect(usage == 97_820_672)
        #expect(kmem == 1_556_480)
        let classes = try MemoryClasses.v1(stat: stat, usageInBytes: usage, kmemUsageInBytes: kmem)
        #expect((48 * mebibyte...50 * mebibyte).contains(classes.anonBytes))  // the 48 MiB perl holder
        #expect(classes.fileBytes == 45_088_768)
        #expect(classes.kernelBytes == kmem)
        #expect(classes.workingSetBytes == usage - 45_088_768)
        // usage ≈ anon + cache + kmem; the rest is per-CPU charge batching and the like.
        let parts = classes.anonBytes + classes.fileBytes + kmem
        #expect(usage >= parts && usage - parts < mebibyte)
        #expect(stat.fields["hierarchical_memory_limit"] == 96 * mebibyte)
    }

    @Test func limitsReadAsBytesOrMax() throws {
        #expect(try SingleValue.limit(Self.text("memory.limit_in_bytes"), file: "memory.limit_in_bytes") == .bytes(96 * mebibyte))
        #expect(try SingleValue.limit(Self.text("memory.limit_in_bytes.unlimited"), file: "memory.limit_in_bytes") == .max)
        #expect(try SingleValue.limit(Self.text("pids.max"), file: "pids.max") == .max)
        #expect(try SingleValue.integer(Self.text("pids.current"), file: "pids.current") == 3)
    }

    @Test func oomControlBeforeAndAfterAnOOMKill() throws {
        let before = try MemoryEvents(parsing: Self.text("memory.oom_control"), file: "memory.oom_control")
        #expect(before.oomKillDisable == false)
        #expect(before.underOOM == false)
        #expect(before.oomKill == 0)
        #expect(before.oom == nil)  // a v2 key
        let after = try MemoryEvents(parsing: Self.text("memory.oom_control.after-oom"), file: "memory.oom_control")
        #expect(after.oomKill == 2)
        #expect(after.underOOM == false)
    }

    @Test func v1CpuacctAgreesWithTheV2TreesCpuStat() throws {
        let usage = try SingleValue.integer(Self.text("cpuacct.usage"), file: "cpuacct.usage")
        let v1 = try CPUStat(parsingCpuacctStat: Self.text("cpuacct.stat"), file: "cpuacct.stat", usageNanoseconds: usage, ticksPerSecond: 100)
        #expect(v1.version == .v1)
        #expect(v1.fields.dictionary == ["user": 385, "system": 8])
        #expect(v1.userSeconds == 3.85)
        #expect(v1.systemSeconds == 0.08)
        #expect(v1.usageSeconds == 3.938187472)

        let v2 = try CPUStat(parsing: Self.text("cpu.stat"), file: "cpu.stat")
        #expect(v2.version == .v2)
        #expect(v2.usageSeconds == 3.938187)
        #expect(v2.userSeconds == 3.851921)
        #expect(v2.systemSeconds == 0.086265)
        #expect(v2.fields["nice_usec"] == 0)  // newer key, kept although no accessor knows it
        #expect(v2.periods == nil)  // the cpu controller is not enabled in the hybrid v2 tree
        #expect(v2.throttledSeconds == nil)
        // Same process tree, same clock: the two hierarchies agree to the microsecond.
        #expect(abs(try #require(v1.usageSeconds) - (try #require(v2.usageSeconds))) < 1e-6)
    }

    @Test func pressureFilesHaveSomeAndFull() throws {
        let cpu = try Pressure(parsing: Self.text("cpu.pressure"), file: "cpu.pressure")
        #expect(cpu.some == Pressure.Record(avg10: 17.14, avg60: 3.90, avg300: 0.84, totalMicroseconds: 2_556_235))
        #expect(cpu.full == Pressure.Record(avg10: 7.09, avg60: 1.72, avg300: 0.37, totalMicroseconds: 1_185_773))
        #expect(cpu.some.totalSeconds == 2.556235)

        let memory = try Pressure(parsing: Self.text("memory.pressure"), file: "memory.pressure")
        #expect(memory.some.totalMicroseconds == 68_504)
        #expect(memory.full?.totalMicroseconds == 5_725)

        let io = try Pressure(parsing: Self.text("io.pressure"), file: "io.pressure")
        #expect(io.some.avg10 == 0)
        #expect(io.some.totalMicroseconds == 8_890)
        #expect(io.full?.totalMicroseconds == 0)
    }

    @Test func cgroupEventsWhileRunningAndAfterExit() throws {
        let running = try CgroupEvents(parsing: Self.text("cgroup.events"), file: "cgroup.events")
        #expect(running.populated == true)
        #expect(running.frozen == false)
        let empty = try CgroupEvents(parsing: Self.text("cgroup.events.empty"), file: "cgroup.events")
        #expect(empty.populated == false)
    }

    @Test func procCgroupOfTheBusyProcess() throws {
        let cgroup = try ProcCgroup(parsing: Self.text("proc-pid-cgroup"), file: "/proc/8242/cgroup")
        #expect(cgroup.entries.count == 10)
        #expect(cgroup.unifiedPath == "/capture-8242")
        #expect(cgroup.path(forController: "memory") == "/process_api/85d7ea34a7d5c861be4ab3c87e21fc08/capture-8242")
        #expect(cgroup.path(forController: "cpuacct") == "/capture-8242")
        #expect(cgroup.path(forController: "pids") == "/capture-8242")
        #expect(cgroup.path(forController: "cpu") == "/")
        #expect(cgroup.path(forController: "name=systemd") == "/")
        #expect(cgroup.path(forController: "hugetlb") == nil)
        #expect(cgroup.entries.first == ProcCgroup.Entry(hierarchyID: 9, controllers: ["name=systemd"], path: "/"))
    }

    @Test func procCgroupOfTheOriginalHybridCapture() throws {
        let cgroup = try ProcCgroup(parsing: Fixture.text("hybrid-host/cgroup"), file: "cgroup")
        #expect(cgroup.unifiedPath == "/")
        #expect(cgroup.path(forController: "memory") == "/process_api/b18f87e28a840938a44e3cf4181d07dc")
    }
}
