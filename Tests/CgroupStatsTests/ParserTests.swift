import Testing
@testable import CgroupStats

/// Behaviour the captured fixtures do not exercise, on small texts in the kernel's documented formats
/// (Documentation/admin-guide/cgroup-v2.rst). These are hand-written inputs, not captures.
@Suite struct ParserTests {
    /// The v2 keys MemoryClasses needs, with `kernel` replaced by `kernelLines`.
    static func v2Stat(kernelLines: String) throws -> MemoryStat {
        let text = """
            anon 1000
            file 700
            \(kernelLines)
            shmem 200
            active_file 300
            inactive_file 200

            """
        return try MemoryStat(parsing: text, file: "memory.stat", version: .v2)
    }

    @Test func v2ClassesUseKernelWhenPresent() throws {
        let stat = try Self.v2Stat(kernelLines: "kernel 90\nkernel_stack 10\nslab 50")
        let classes = try MemoryClasses.v2(stat: stat, current: 2100, swapCurrent: 40)
        #expect(classes == MemoryClasses(
            anonBytes: 1000, swapBytes: 40, fileBytes: 700, shmemBytes: 200, activeFileBytes: 300,
            inactiveFileBytes: 200, kernelBytes: 90, usageBytes: 2100))
        #expect(classes.workingSetBytes == 1900)
        #expect(classes.guardedAnonBytes(includingShmem: false) == 1040)
        #expect(classes.guardedAnonBytes(includingShmem: true) == 1240)
    }

    @Test func v2KernelFallsBackToTheSumOfItsParts() throws {
        let old = try Self.v2Stat(kernelLines: "kernel_stack 10\npagetables 20\npercpu 5\nsock 3\nslab 50\nvmalloc 99")
        #expect(try MemoryClasses.v2(stat: old, current: 0, swapCurrent: nil).kernelBytes == 88)  // vmalloc not summed
        let oldest = try Self.v2Stat(kernelLines: "kernel_stack 10\nsock 3\nslab 50")
        #expect(try MemoryClasses.v2(stat: oldest, current: 0, swapCurrent: nil).kernelBytes == 63)
    }

    @Test func v2SwapIsNilWithoutMemorySwapCurrent() throws {
        let classes = try MemoryClasses.v2(stat: Self.v2Stat(kernelLines: "kernel 1"), current: 100, swapCurrent: nil)
        #expect(classes.swapBytes == nil)
        #expect(classes.guardedAnonBytes(includingShmem: false) == 1000)
    }

    @Test func v2CountersReadTheUnprefixedKeys() throws {
        let stat = try MemoryStat(parsing: "anon 1\nfile_mapped 2\ntotal_rss 3\n", file: "memory.stat", version: .v2)
        #expect(stat[.anon] == 1)
        #expect(stat[.fileMapped] == 2)
        #expect(stat[.shmem] == nil)
        #expect(MemoryStat.Counter.fileMapped.key(in: .v1) == "total_mapped_file")
    }

    @Test func guardSumSaturatesInsteadOfTrapping() {
        let classes = MemoryClasses(
            anonBytes: .max, swapBytes: 1, fileBytes: 0, shmemBytes: 1, activeFileBytes: 0,
            inactiveFileBytes: 0, kernelBytes: nil, usageBytes: 0)
        #expect(classes.guardedAnonBytes(includingShmem: true) == .max)
    }

    @Test func everyFieldHasAOneLineHelpAndAValue() {
        let classes = MemoryClasses(
            anonBytes: 1, swapBytes: 2, fileBytes: 3, shmemBytes: 4, activeFileBytes: 5,
            inactiveFileBytes: 6, kernelBytes: 7, usageBytes: 8)
        #expect(MemoryClasses.Field.allCases.map { classes[$0] } == [1, 2, 3, 4, 5, 6, 7, 8, 2])
        for field in MemoryClasses.Field.allCases {
            #expect(!field.help.isEmpty && !field.help.contains("\n"), "\(field)")
        }
        #expect(MemoryClasses.Field.workingSet.rawValue == "working_set")
    }

    @Test func v2MemoryEvents() throws {
        let events = try MemoryEvents(parsing: "low 0\nhigh 12\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n", file: "memory.events")
        #expect(events.low == 0)
        #expect(events.high == 12)
        #expect(events.max == 3)
        #expect(events.oom == 1)
        #expect(events.oomKill == 1)
        #expect(events.oomGroupKill == 0)
        #expect(events.underOOM == nil)  // a v1 key
    }

    @Test func v2CpuStatThrottling() throws {
        let text = "usage_usec 10\nuser_usec 6\nsystem_usec 4\nnr_periods 100\nnr_throttled 7\nthrottled_usec 2500000\n"
        let stat = try CPUStat(parsing: text, file: "cpu.stat")
        #expect(stat.periods == 100)
        #expect(stat.throttledPeriods == 7)
        #expect(stat.throttledSeconds == 2.5)
    }

    @Test func cpuacctWithoutUsageAndEmptyFlatFiles() throws {
        let stat = try CPUStat(parsingCpuacctStat: "user 250\nsystem 50", file: "cpuacct.stat", usageNanoseconds: nil, ticksPerSecond: 250)
        #expect(stat.usageSeconds == nil)
        #expect(stat.userSeconds == 1)
        #expect(stat.systemSeconds == 0.2)
        // The root's cpu.stat.local is empty: a flat-keyed file may have no keys, the accessors are nil.
        let empty = try CPUStat(parsing: "", file: "cpu.stat.local")
        #expect(empty.fields.count == 0 && empty.usageSeconds == nil)
    }

    @Test func pressureWithoutFullLine() throws {
        let pressure = try Pressure(parsing: "some avg10=1.50 avg60=0.25 avg300=0.00 total=42", file: "cpu.pressure")
        #expect(pressure.some.avg10 == 1.5)
        #expect(pressure.some.avg60 == 0.25)
        #expect(pressure.full == nil)
    }

    @Test func singleValuesWithAndWithoutNewline() throws {
        #expect(try SingleValue.integer("4096\n", file: "memory.current") == 4096)
        #expect(try SingleValue.integer("0", file: "memory.current") == 0)
        #expect(try SingleValue.integer("18446744073709551615\n", file: "memory.current") == .max)
        #expect(try SingleValue.limit("max\n", file: "memory.max") == .max)
        #expect(try SingleValue.limit("67108864\n", file: "memory.high") == .bytes(64 << 20))
        #expect(try SingleValue.limit("4611686018427387903\n", file: "memory.limit_in_bytes") == .bytes((1 << 62) - 1))
        #expect(try SingleValue.limit("4611686018427387904\n", file: "memory.limit_in_bytes") == .max)
    }

    @Test func procCgroupPathsMayContainColons() throws {
        let cgroup = try ProcCgroup(parsing: "2:cpu,cpuacct:/a:b\n0::/x:y/z\n", file: "cgroup")
        #expect(cgroup.path(forController: "cpuacct") == "/a:b")
        #expect(cgroup.entries.first?.controllers == ["cpu", "cpuacct"])
        #expect(cgroup.unifiedPath == "/x:y/z")
    }

    @Test func errorDescriptionNamesFileAndLine() {
        #expect(CgroupParseError(file: "memory.stat", line: 3, message: "duplicate key 'anon'").description
            == "memory.stat:3: duplicate key 'anon'")
        #expect(CgroupParseError(file: "memory.stat", line: nil, message: "missing key 'anon'").description
            == "memory.stat: missing key 'anon'")
    }
}

@Suite struct PidListTests {
    @Test("a pid list as the kernel writes it, and an empty one")
    func pids() throws {
        #expect(try PidList.parse("4242\n17\n", file: "cgroup.procs") == [4242, 17])
        #expect(try PidList.parse("", file: "cgroup.procs") == [])
    }
}

@Suite struct PressureFastPathTests {
    /// Text as the kernel writes it takes the byte-level path; the same text without its final
    /// newline takes the strict one. Both must read the same values.
    @Test("the byte-level and the strict PSI parsers agree", arguments: [
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
        "some avg10=12.34 avg60=5.06 avg300=100.00 total=18446744073709551615\nfull avg10=0.01 avg60=0.10 avg300=1.00 total=42\n",
        "some avg10=3.00 avg60=2.00 avg300=1.00 total=7\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
    ])
    func agree(text: String) throws {
        let fast = try Pressure(parsing: text, file: "memory.pressure")
        let strict = try Pressure(parsing: String(text.dropLast()), file: "memory.pressure")
        #expect(fast == strict)
    }
}
