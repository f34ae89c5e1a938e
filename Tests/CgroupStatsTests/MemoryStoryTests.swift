import Foundation
import StewardTestSupport
import Testing
@testable import CgroupStats

/// One cumulative workload captured on both cgroup versions: v1 on the hybrid host (kernel 6.18,
/// Tests/Fixtures/v1-memory-stat) and v2 in the test VM (kernel 6.1, Tests/Fixtures/v2-memory-stat); see
/// the READMEs there. Each step's memory classes must say what the step did, whatever the version.
struct MemoryCapture: Sendable, CustomTestStringConvertible {
    let version: CgroupVersion
    var testDescription: String { "\(version)" }

    static let both = [MemoryCapture(version: .v1), MemoryCapture(version: .v2)]
    static let steps = [
        "empty", "after-dd300", "after-dd300-sync", "plus-anon100", "plus-shm100", "holder-killed",
        "files-removed", "nested-parent", "nested-child",
    ]
    /// v1 memory.usage_in_bytes and memory.kmem.usage_in_bytes of each step, from the v1 README.
    static let v1Usage: [String: (usage: UInt64, kmem: UInt64?)] = [
        "empty": (0, 0),
        "after-dd300": (323_624_960, 8_617_984),
        "after-dd300-sync": (322_576_384, 8_589_312),
        "plus-anon100": (427_696_128, 8_851_456),
        "plus-shm100": (529_551_360, 9_007_104),
        "holder-killed": (424_325_120, 8_744_960),
        "files-removed": (303_104, 4_096),
        "nested-parent": (86_695_936, nil),
        "nested-child": (86_433_792, nil),
    ]

    func statPath(_ step: String) -> String {
        switch version {
        case .v1: "v1-memory-stat/v1-\(step == "nested-child" ? "nested-child-mmap" : step).stat"
        case .v2: "v2-memory-stat/\(step).memory.stat"
        }
    }

    func stat(_ step: String) throws -> MemoryStat {
        try MemoryStat(parsing: Fixture.text(statPath(step)), file: statPath(step), version: version)
    }

    func classes(_ step: String) throws -> MemoryClasses {
        switch version {
        case .v1:
            let figures = try #require(Self.v1Usage[step])
            return try MemoryClasses.v1(stat: stat(step), usageInBytes: figures.usage, kmemUsageInBytes: figures.kmem)
        case .v2:
            let current = "v2-memory-stat/\(step).memory.current", swap = "v2-memory-stat/\(step).memory.swap.current"
            return try MemoryClasses.v2(
                stat: stat(step),
                current: SingleValue.integer(Fixture.text(current), file: current),
                swapCurrent: SingleValue.integer(Fixture.text(swap), file: swap))
        }
    }
}

@Suite struct MemoryStoryTests {
    static let everyStep = MemoryCapture.both.flatMap { capture in MemoryCapture.steps.map { (capture, $0) } }

    @Test(arguments: everyStep)
    func everyStepParsesCompletelyAndAddsUp(capture: MemoryCapture, step: String) throws {
        let stat = try capture.stat(step)
        #expect(stat.fields.count == (try Fixture.text(capture.statPath(step))).split(separator: "\n").count)
        for counter in MemoryStat.Counter.allCases {
            #expect(stat[counter] != nil, "\(counter) missing")
        }
        let classes = try capture.classes(step)
        #expect(classes.swapBytes == 0)  // swap is accounted on both hosts (v1 memsw, v2 memory.swap.current), none in use
        #expect(classes.workingSetBytes == classes.usageBytes - classes.inactiveFileBytes)
        // Page cache is the file LRU lists plus shmem (which sits on the anon LRU); nothing is mlocked here.
        #expect(classes.fileBytes == classes.shmemBytes + classes.activeFileBytes + classes.inactiveFileBytes)
        #expect(classes.kernelBytes != nil || capture.version == .v1)
    }

    @Test(arguments: MemoryCapture.both)
    func emptyCgroupIsAllZero(capture: MemoryCapture) throws {
        #expect(try capture.classes("empty") == MemoryClasses(
            anonBytes: 0, swapBytes: 0, fileBytes: 0, shmemBytes: 0, activeFileBytes: 0,
            inactiveFileBytes: 0, kernelBytes: 0, usageBytes: 0))
    }

    @Test(arguments: MemoryCapture.both)
    func writingA300MiBFileIsPageCacheNotAnon(capture: MemoryCapture) throws {
        let dirty = try capture.classes("after-dd300")
        #expect(dirty.anonBytes == 0)
        #expect((300 * mebibyte...301 * mebibyte).contains(dirty.fileBytes))
        #expect(try capture.stat("after-dd300")[.fileDirty] ?? 0 > 100 * mebibyte)

        let synced = try capture.classes("after-dd300-sync")
        #expect(synced.anonBytes == 0)
        #expect(synced.guardedAnonBytes(includingShmem: true) == 0)
        #expect((299 * mebibyte...301 * mebibyte).contains(synced.fileBytes))
        #expect(try capture.stat("after-dd300-sync")[.fileDirty] == 0)
        // Nearly all of it is inactive cache, so the working set is little more than kernel memory.
        #expect(synced.workingSetBytes < 10 * mebibyte)
        #expect(try #require(synced.kernelBytes) > 8 * mebibyte)  // ext4 metadata and slab for the write
    }

    @Test(arguments: MemoryCapture.both)
    func a100MiBHolderIsAnon(capture: MemoryCapture) throws {
        let classes = try capture.classes("plus-anon100")
        #expect((100 * mebibyte...110 * mebibyte).contains(classes.anonBytes))  // + the holder's own runtime
        #expect(classes.shmemBytes == 0)
        #expect(classes.guardedAnonBytes(includingShmem: false) == classes.anonBytes)
        #expect(classes.workingSetBytes >= classes.anonBytes)
    }

    @Test(arguments: MemoryCapture.both)
    func tmpfsIsShmemInsideFileAndOutlivesItsWriter(capture: MemoryCapture) throws {
        let before = try capture.classes("plus-anon100")
        let withShm = try capture.classes("plus-shm100")
        #expect(withShm.shmemBytes == 100 * mebibyte)
        // Counted in file (v1 total_cache, v2 file), not in anon. (On v1 the 300 MiB file's cache shrank by
        // ~3 MiB meanwhile, hence the range.)
        #expect((96 * mebibyte...100 * mebibyte).contains(withShm.fileBytes - before.fileBytes))
        #expect(withShm.anonBytes == before.anonBytes)
        // tmpfs pages sit on the anon LRU, not on *_file: the working set keeps them.
        #expect(withShm.workingSetBytes >= withShm.anonBytes + withShm.shmemBytes)
        #expect(withShm.guardedAnonBytes(includingShmem: true) == withShm.anonBytes + 100 * mebibyte)

        let killed = try capture.classes("holder-killed")
        #expect(killed.anonBytes == 0)
        #expect(killed.shmemBytes == 100 * mebibyte)
        #expect(killed.guardedAnonBytes(includingShmem: false) == 0)
        #expect(killed.guardedAnonBytes(includingShmem: true) == 100 * mebibyte)
    }

    @Test(arguments: MemoryCapture.both)
    func removingTheFilesFreesTheCache(capture: MemoryCapture) throws {
        let classes = try capture.classes("files-removed")
        #expect(classes.anonBytes == 0)
        #expect(classes.shmemBytes == 0)
        #expect(classes.fileBytes < 8 * mebibyte)
    }

    @Test(arguments: MemoryCapture.both)
    func parentCountsItsChildsMemory(capture: MemoryCapture) throws {
        let parent = try capture.classes("nested-parent")
        let child = try capture.classes("nested-child")
        #expect(parent.anonBytes == child.anonBytes)
        #expect(parent.fileBytes == child.fileBytes)
        #expect(parent.shmemBytes == child.shmemBytes)
        #expect(parent.inactiveFileBytes == child.inactiveFileBytes)
        #expect(parent.usageBytes >= child.usageBytes)
    }

    @Test(arguments: MemoryCapture.both)
    func childHoldsItsAnonAndAMappedFile(capture: MemoryCapture) throws {
        let classes = try capture.classes("nested-child")
        #expect((50 * mebibyte...51 * mebibyte).contains(try #require(capture.stat("nested-child")[.fileMapped])))
        #expect(classes.fileBytes >= 50 * mebibyte)
        #expect((20 * mebibyte...40 * mebibyte).contains(classes.anonBytes))  // 20 MiB + python itself
    }

    // MARK: v1 only

    @Test func v1ParentsOwnPagesAreZeroAndItsTotalsAreTheChilds() throws {
        let v1 = MemoryCapture(version: .v1)
        let parent = try v1.stat("nested-parent"), child = try v1.stat("nested-child")
        #expect(parent.fields["rss"] == 0)
        #expect(parent.fields["cache"] == 0)
        for counter in MemoryStat.Counter.allCases {
            #expect(parent[counter] == child[counter], "\(counter)")
        }
    }

    @Test func v1KernelIsKmemUsage() throws {
        let v1 = MemoryCapture(version: .v1)
        #expect(try v1.classes("after-dd300-sync").kernelBytes == 8_589_312)
        #expect(try v1.classes("nested-parent").kernelBytes == nil)
    }

    @Test func v1TotalRSSHugeIsInsideTotalRSSNotAddedAgain() throws {
        let text = try Fixture.text("v1-memory-stat/v1-plus-anon100.stat")
            .replacingOccurrences(of: "total_rss_huge 0", with: "total_rss_huge 2097152")
        let stat = try MemoryStat(parsing: text, file: "memory.stat", version: .v1)
        let classes = try MemoryClasses.v1(stat: stat, usageInBytes: 427_696_128, kmemUsageInBytes: nil)
        #expect(classes.anonBytes == 104_960_000)
    }

    @Test func v1SwapIsNilWithoutMemswAccounting() throws {
        let text = try Fixture.text("v1-memory-stat/v1-plus-anon100.stat")
            .split(separator: "\n").filter { !$0.hasPrefix("total_swap ") }.joined(separator: "\n")
        let stat = try MemoryStat(parsing: text, file: "memory.stat", version: .v1)
        let classes = try MemoryClasses.v1(stat: stat, usageInBytes: 427_696_128, kmemUsageInBytes: nil)
        #expect(classes.swapBytes == nil)
        #expect(classes[.swap] == nil)
        #expect(classes.guardedAnonBytes(includingShmem: false) == 104_960_000)
    }

    @Test func v1WorkingSetIsFlooredAtZero() throws {
        // usage_in_bytes and memory.stat are not read atomically together, so usage can read below
        // total_inactive_file for a moment.
        let stat = try MemoryCapture(version: .v1).stat("after-dd300-sync")
        #expect(try MemoryClasses.v1(stat: stat, usageInBytes: 4096, kmemUsageInBytes: nil).workingSetBytes == 0)
    }

    // MARK: v2 only

    @Test(arguments: MemoryCapture.steps)
    func v2CurrentIsAnonPlusFilePlusKernel(step: String) throws {
        // memory.current and memory.stat are separate reads and the stats are flushed lazily, so they may
        // disagree by a little; in the captures so far they agree exactly.
        let classes = try MemoryCapture(version: .v2).classes(step)
        let parts = classes.anonBytes + classes.fileBytes + (try #require(classes.kernelBytes))
        #expect(max(parts, classes.usageBytes) - min(parts, classes.usageBytes) < 256 * 1024)
    }

    @Test(arguments: MemoryCapture.steps)
    func v2KernelFallbackUndercountsSlightly(step: String) throws {
        // Without the `kernel` key (kernels before 5.18) the sum of its parts is used; it misses little.
        let path = "v2-memory-stat/\(step).memory.stat"
        let text = try Fixture.text(path)
        let withoutKernel = text.split(separator: "\n").filter { !$0.hasPrefix("kernel ") }.joined(separator: "\n")
        let full = try MemoryClasses.v2(stat: MemoryStat(parsing: text, file: path, version: .v2), current: 0, swapCurrent: nil)
        let parts = try MemoryClasses.v2(stat: MemoryStat(parsing: withoutKernel, file: path, version: .v2), current: 0, swapCurrent: nil)
        let kernel = try #require(full.kernelBytes), sum = try #require(parts.kernelBytes)
        #expect(sum <= kernel && kernel - sum < 64 * 1024)
    }

    @Test(arguments: MemoryCapture.steps)
    func v2CompanionFilesParse(step: String) throws {
        func text(_ name: String) throws -> String { try Fixture.text("v2-memory-stat/\(step).\(name)") }
        let events = try MemoryEvents(parsing: text("memory.events"), file: "memory.events")
        #expect([events.low, events.high, events.max, events.oom, events.oomKill, events.oomGroupKill] == [0, 0, 0, 0, 0, 0])
        #expect(try SingleValue.limit(text("memory.max"), file: "memory.max") == .max)
        #expect(try SingleValue.integer(text("pids.current"), file: "pids.current") <= 1)
        #expect(try Pressure(parsing: text("memory.pressure"), file: "memory.pressure").full != nil)
        let cpu = try CPUStat(parsing: text("cpu.stat"), file: "cpu.stat")
        #expect(cpu.usageSeconds != nil && cpu.periods == 0 && cpu.throttledSeconds == 0)
    }
}

@Suite struct GuardBoundTests {
    @Test("the usage bound adds swap and saturates (real cgroups: CgroupReaderTests)")
    func bound() throws {
        #expect(MemoryClasses.guardedUpperBound(usageBytes: 100, swapBytes: 20) == 120)
        #expect(MemoryClasses.guardedUpperBound(usageBytes: 100, swapBytes: nil) == 100)
        #expect(MemoryClasses.guardedUpperBound(usageBytes: .max, swapBytes: 1) == .max)
    }
}
