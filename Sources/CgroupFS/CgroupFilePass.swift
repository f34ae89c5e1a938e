import CgroupStats
import SystemPackage

/// A file a reader may read from a service's cgroup; which ones exist depends on the host's layout.
enum CgroupFileKind: Int, CaseIterable {
    case memoryStat, memoryCurrent, memorySwapCurrent, memoryEvents
    case usageInBytes, memswUsageInBytes, kmemUsageInBytes, oomControl
    case cpuStat, cpuacctStat, pidsCurrent, memoryPressure
}

/// Where each file of one service's cgroup lives on this host, worked out once per reader, so that a
/// scrape of many services builds no paths. A kind without a path is not read on this host.
struct CgroupFilePaths: Sendable {
    struct Entry: Sendable {
        var path: String
        /// A host may lack the file (no swap accounting, no PSI, the pids controller not enabled).
        var optional: Bool
    }

    private let entries: [Entry?]

    init(_ cgroup: ServiceCgroup) {
        let v2 = cgroup.v2Directory
        let unified = cgroup.mode == .unified
        let memory = unified ? v2 : cgroup.v1Directory(for: "memory")
        let v1Memory = unified ? nil : memory
        // A hybrid host's v2 tree keeps cpu.stat without any controller, in microseconds; v1
        // cpuacct.stat only counts USER_HZ ticks, so it is the fallback for pure v1.
        let cpuStat = cgroup.mode == .legacy ? nil : v2
        let pids = unified ? v2 : cgroup.v1Directory(for: "pids")
        func entry(_ directory: String?, _ name: String, optional: Bool = false) -> Entry? {
            directory.map { Entry(path: $0 + "/" + name, optional: optional) }
        }
        entries = CgroupFileKind.allCases.map { kind in
            switch kind {
            case .memoryStat: entry(memory, "memory.stat")
            case .memoryCurrent: entry(unified ? v2 : nil, "memory.current")
            case .memorySwapCurrent: entry(unified ? v2 : nil, "memory.swap.current", optional: true)
            case .memoryEvents: entry(unified ? v2 : nil, "memory.events")
            case .usageInBytes: entry(v1Memory, "memory.usage_in_bytes")
            case .memswUsageInBytes: entry(v1Memory, "memory.memsw.usage_in_bytes", optional: true)
            case .kmemUsageInBytes: entry(v1Memory, "memory.kmem.usage_in_bytes", optional: true)
            case .oomControl: entry(v1Memory, "memory.oom_control")
            case .cpuStat: entry(cpuStat, "cpu.stat")
            case .cpuacctStat: entry(cpuStat == nil && !unified ? cgroup.v1Directory(for: "cpuacct") : nil, "cpuacct.stat")
            case .pidsCurrent: entry(pids, "pids.current", optional: unified)
            case .memoryPressure: entry(v2, "memory.pressure", optional: true)
            }
        }
    }

    subscript(kind: CgroupFileKind) -> Entry? { entries[kind.rawValue] }
}

/// One pass over a cgroup's files with the reader's kept descriptors; collects errors and notices
/// when the cgroup disappears.
struct FilePass {
    /// The reader's descriptors by `CgroupFileKind`, handed back when the pass ends.
    var kept: [FileDescriptor?]
    let paths: CgroupFilePaths
    let budget: DescriptorBudget
    /// Whose directories tell, when a file is missing, whether the whole cgroup is gone.
    let cgroup: ServiceCgroup
    var errors: [any Error] = []
    var cgroupIsGone = false

    init(kept: [FileDescriptor?], paths: CgroupFilePaths, budget: DescriptorBudget, cgroup: ServiceCgroup) {
        self.kept = kept
        self.paths = paths
        self.budget = budget
        self.cgroup = cgroup
    }

    mutating func memory() -> MemoryClasses? {
        if cgroup.mode == .unified {
            let stat = text(.memoryStat), current = integer(.memoryCurrent)
            // A broken optional file leaves only its own value out.
            let swap = integer(.memorySwapCurrent)
            guard let stat, let current else { return nil }
            return parse(.memoryStat, stat) { text, path in
                try MemoryClasses.v2(stat: MemoryStat(parsing: text, file: path, version: .v2), current: current, swapCurrent: swap)
            }
        }
        let stat = text(.memoryStat), usage = integer(.usageInBytes)
        let kmem = integer(.kmemUsageInBytes)
        guard let stat, let usage else { return nil }
        return parse(.memoryStat, stat) { text, path in
            try MemoryClasses.v1(stat: MemoryStat(parsing: text, file: path, version: .v1), usageInBytes: usage, kmemUsageInBytes: kmem)
        }
    }

    /// `MemoryClasses.guardedUpperBound` from the usage and swap counters.
    mutating func guardedUpperBound() -> UInt64? {
        if cgroup.mode == .unified {
            guard let current = integer(.memoryCurrent) else { return nil }
            return MemoryClasses.guardedUpperBound(usageBytes: current, swapBytes: integer(.memorySwapCurrent))
        }
        // With swap accounting, memsw is usage and swap in one counter; without, there is no swap to count.
        let usage = integer(.memswUsageInBytes) ?? integer(.usageInBytes)
        return usage.map { MemoryClasses.guardedUpperBound(usageBytes: $0, swapBytes: nil) }
    }

    mutating func sample(ticksPerSecond: UInt64) -> CgroupSample {
        var sample = CgroupSample(memory: memory())
        sample.oomKills = read(cgroup.mode == .unified ? .memoryEvents : .oomControl) { try MemoryEvents(parsing: $0, file: $1).oomKill }
        sample.cpu = read(.cpuStat) { try CPUStat(parsing: $0, file: $1) }
            ?? read(.cpuacctStat) { try CPUStat(parsingCpuacctStat: $0, file: $1, usageNanoseconds: nil, ticksPerSecond: ticksPerSecond) }
        sample.pids = integer(.pidsCurrent)
        sample.memoryPressure = read(.memoryPressure) { try Pressure(parsing: $0, file: $1) }
        sample.errors = errors
        return sample
    }

    private mutating func integer(_ kind: CgroupFileKind) -> UInt64? {
        read(kind) { try SingleValue.integer($0, file: $1) }
    }

    /// The file read and parsed; nil (and an error) where it could not be.
    private mutating func read<T>(_ kind: CgroupFileKind, _ parser: (String, String) throws -> T?) -> T? {
        text(kind).flatMap { parse(kind, $0, parser) }
    }

    /// `parser`'s value from the text and path of the file; nil and an error if it threw.
    private mutating func parse<T>(_ kind: CgroupFileKind, _ text: String, _ parser: (String, String) throws -> T?) -> T? {
        do {
            return try parser(text, paths[kind]?.path ?? "")
        } catch {
            errors.append(error)
            return nil
        }
    }

    /// The file's text; nil if this host has no such file, or it is absent or unreadable. Absence is
    /// an error unless the file is optional, and marks the cgroup gone when one of its directories
    /// has vanished.
    private mutating func text(_ kind: CgroupFileKind) -> String? {
        guard !cgroupIsGone, let entry = paths[kind] else { return nil }
        do {
            return try contents(of: kind, at: entry.path)
        } catch {
            if error.errno == .noSuchFileOrDirectory || error.errno == .operationNotSupportedByDevice {
                if !cgroup.allDirectories.allSatisfy(CgroupFile.exists) {
                    cgroupIsGone = true
                    return nil
                }
                if entry.optional && error.errno == .noSuchFileOrDirectory { return nil }
            }
            errors.append(error)
            return nil
        }
    }

    /// Reads through the kept descriptor; a stale one (ENODEV: its cgroup was removed, perhaps
    /// recreated since) is replaced by a fresh open once.
    private mutating func contents(of kind: CgroupFileKind, at path: String) throws(CgroupFSError) -> String {
        if let fd = kept[kind.rawValue] {
            do {
                return try CgroupFile.readText(fd, path: path)
            } catch where error.errno == .operationNotSupportedByDevice {
                try? fd.close()
                kept[kind.rawValue] = nil
                budget.giveBack(1)
            }
        }
        let fd = try CgroupFile.open(path, .readOnly)
        let text: String
        do {
            text = try CgroupFile.readText(fd, path: path)
        } catch {
            try? fd.close()
            throw error
        }
        if budget.take() { kept[kind.rawValue] = fd } else { try? fd.close() }
        return text
    }
}
