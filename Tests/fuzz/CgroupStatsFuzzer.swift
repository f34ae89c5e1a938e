// libFuzzer harness for the pure cgroup-file parsers of Sources/CgroupStats, mountinfo and the
// host layout among them. Built and run by Tests/fuzz/run.
//
// Input: the first byte picks the parser (byte % 15), the rest is the file text, decoded as UTF-8.
// A thrown error is a correct answer; a trap, sanitizer report or hang is a finding.
import CgroupStats

private let parserCount: UInt8 = 15

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let selector = bytes[0] % parserCount
    let body = UnsafeRawBufferPointer(rebasing: bytes[1...])
    let text = String(decoding: body, as: UTF8.self)
    let file = "fuzz"

    switch selector {
    case 0:
        if let stat = try? MemoryStat(parsing: text, file: file, version: .v2) { touch(stat) }
    case 1:
        if let stat = try? MemoryStat(parsing: text, file: file, version: .v1) { touch(stat) }
    case 2:
        if let stat = try? CPUStat(parsing: text, file: file) { touch(stat) }
    case 3:
        // ticksPerSecond is sysconf(_SC_CLK_TCK) from the caller (a precondition demands > 0).
        for usage in [nil, 0, 3_938_187_472, UInt64.max] as [UInt64?] {
            if let stat = try? CPUStat(parsingCpuacctStat: text, file: file, usageNanoseconds: usage, ticksPerSecond: 100) {
                touch(stat)
            }
        }
    case 4:
        if let pressure = try? Pressure(parsing: text, file: file) {
            for record in [pressure.some] + (pressure.full.map { [$0] } ?? []) {
                blackHole(record.avg10 + record.avg60 + record.avg300 + record.totalSeconds)
            }
        }
    case 5:
        if let events = try? MemoryEvents(parsing: text, file: file) {
            blackHole([events.low, events.high, events.max, events.oom, events.oomKill, events.oomGroupKill])
            blackHole([events.underOOM, events.oomKillDisable])
        }
    case 6:
        if let events = try? CgroupEvents(parsing: text, file: file) {
            blackHole([events.populated, events.frozen])
        }
    case 7:
        if let value = try? SingleValue.integer(text, file: file) { blackHole(value) }
    case 8:
        if let limit = try? SingleValue.limit(text, file: file) { blackHole(limit) }
    case 9:
        if let own = try? ProcCgroup(parsing: text, file: file) {
            blackHole(own.unifiedPath)
            for name in ["memory", "cpu", "cpuacct", "pids", "freezer", "name=systemd", ""] {
                blackHole(own.path(forController: name))
            }
        }
    case 10:
        if let mounts = try? MountEntry.parse(text, file: file) { blackHole(mounts) }
    case 11:
        // mountinfo, a NUL byte, then /proc/self/cgroup.
        let parts = body.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        let mountinfo = String(decoding: UnsafeRawBufferPointer(rebasing: parts[0]), as: UTF8.self)
        let procSelfCgroup = parts.count > 1 ? String(decoding: UnsafeRawBufferPointer(rebasing: parts[1]), as: UTF8.self) : ""
        if let layout = try? HostLayout.detect(mountinfo: mountinfo, procSelfCgroup: procSelfCgroup) {
            blackHole(layout)
            for controller in HostLayout.v1ControllersUsed { blackHole(layout.v1Hierarchy(for: controller)) }
        }
    case 12:
        guard let stat = try? MemoryStat(parsing: text, file: file, version: .v2) else { break }
        for current in [0, 1 << 30, UInt64.max] as [UInt64] {
            for swap in [nil, 0, UInt64.max] as [UInt64?] {
                if let classes = try? MemoryClasses.v2(stat: stat, current: current, swapCurrent: swap) { touch(classes) }
            }
        }
    case 13:
        if let pids = try? PidList.parse(text, file: file) { blackHole(pids) }
    default:
        guard let stat = try? MemoryStat(parsing: text, file: file, version: .v1) else { break }
        for usage in [0, 1 << 30, UInt64.max] as [UInt64] {
            for kmem in [nil, 0, UInt64.max] as [UInt64?] {
                if let classes = try? MemoryClasses.v1(stat: stat, usageInBytes: usage, kmemUsageInBytes: kmem) { touch(classes) }
            }
        }
    }
    return 0
}

private func touch(_ stat: MemoryStat) {
    for counter in MemoryStat.Counter.allCases {
        blackHole(stat[counter])
        blackHole(try? stat.require(counter))
    }
}

private func touch(_ stat: CPUStat) {
    blackHole([stat.usageSeconds, stat.userSeconds, stat.systemSeconds, stat.throttledSeconds])
    blackHole([stat.periods, stat.throttledPeriods])
}

private func touch(_ classes: MemoryClasses) {
    for field in MemoryClasses.Field.allCases { blackHole(classes[field]) }
    blackHole(classes.guardedAnonBytes(includingShmem: true))
    blackHole(classes.guardedAnonBytes(includingShmem: false))
    blackHole(classes.workingSetBytes)
}

@inline(never)
private func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
