/// The memory-class policy: what anon, file, shmem, kernel, usage and working set mean for a service's
/// cgroup (always its whole subtree) on each cgroup version. Metrics and the memory guard read these,
/// never raw memory.stat keys, so both versions mean the same thing. All values are bytes.
///
/// The classes overlap on purpose, as the kernel counts them: shmem is inside file; usage is roughly
/// anon + file + kernel; swap is outside usage.
public struct MemoryClasses: Sendable, Equatable {
    /// Anonymous memory (heap, stacks, private mappings) in RAM; excludes page cache and shmem.
    public let anonBytes: UInt64
    /// Anonymous and shmem pages swapped out; nil when this host does not account swap per cgroup.
    public let swapBytes: UInt64?
    /// Page cache, including shmem/tmpfs; reclaimable except the shmem part.
    public let fileBytes: UInt64
    /// tmpfs files, shm segments and shared anonymous mappings; part of file, reclaimable only to swap.
    public let shmemBytes: UInt64
    /// Page cache on the active LRU list (recently re-used).
    public let activeFileBytes: UInt64
    /// Page cache on the inactive LRU list, reclaimed first.
    public let inactiveFileBytes: UInt64
    /// Kernel memory charged to the cgroup (slab, stacks, page tables, sockets); nil where unaccounted.
    public let kernelBytes: UInt64?
    /// All memory charged to the cgroup, page cache and kernel included, swap excluded.
    public let usageBytes: UInt64

    /// Usage minus inactive page cache, floored at 0 (cAdvisor/kubelet). Still counts active and shmem
    /// pages, so a service that re-reads its files looks bigger than its anon.
    public var workingSetBytes: UInt64 {
        usageBytes > inactiveFileBytes ? usageBytes - inactiveFileBytes : 0
    }

    /// What the memory guard compares with its limit: anon + swapped anon, plus shmem if the service opts
    /// in (tmpfs data outlives the process that wrote it, so it is not always the service's to answer for).
    /// Swap counts 0 where it is not accounted.
    public func guardedAnonBytes(includingShmem: Bool) -> UInt64 {
        saturatingSum([anonBytes, swapBytes ?? 0, includingShmem ? shmemBytes : 0])
    }

    /// An upper bound of `guardedAnonBytes` from the usage counters alone, which the kernel produces
    /// for a fraction of memory.stat's cost (on a 6.18 hybrid host 0.9 µs against 11.4 µs for a v1
    /// memory.stat). Anon and shmem pages are charged to the usage (memory.current,
    /// memory.usage_in_bytes) before memory.stat shows them, swapped anon to the swap counter
    /// (memory.swap.current; v1's memory.memsw.usage_in_bytes is usage and swap together, passed as
    /// `usageBytes` with no `swapBytes`). While the bound is within a limit, so is the guarded value.
    public static func guardedUpperBound(usageBytes: UInt64, swapBytes: UInt64?) -> UInt64 {
        let (sum, overflow) = usageBytes.addingReportingOverflow(swapBytes ?? 0)
        return overflow ? .max : sum
    }

    public init(
        anonBytes: UInt64, swapBytes: UInt64?, fileBytes: UInt64, shmemBytes: UInt64, activeFileBytes: UInt64,
        inactiveFileBytes: UInt64, kernelBytes: UInt64?, usageBytes: UInt64
    ) {
        self.anonBytes = anonBytes
        self.swapBytes = swapBytes
        self.fileBytes = fileBytes
        self.shmemBytes = shmemBytes
        self.activeFileBytes = activeFileBytes
        self.inactiveFileBytes = inactiveFileBytes
        self.kernelBytes = kernelBytes
        self.usageBytes = usageBytes
    }

    /// Builds the classes from v2 files: memory.stat, memory.current, and memory.swap.current (nil when the
    /// file does not exist, i.e. swap is not accounted).
    ///
    /// Kernel memory is memory.stat `kernel` (Linux 5.18+). Older kernels lack that key; then it is the sum
    /// kernel_stack + pagetables + sec_pagetables + percpu + sock + slab, of which kernel_stack, slab and
    /// sock are required and the others added when this kernel reports them. The sum misses vmalloc and
    /// other kernel allocations that only `kernel` covers, so it undercounts slightly.
    public static func v2(stat: MemoryStat, current: UInt64, swapCurrent: UInt64?) throws(CgroupParseError) -> MemoryClasses {
        try expect(stat, is: .v2)
        let kernel: UInt64
        if let total = stat.fields["kernel"] {
            kernel = total
        } else {
            let required = try ["kernel_stack", "slab", "sock"].map { key throws(CgroupParseError) in
                guard let value = stat.fields[key] else {
                    throw CgroupParseError(file: stat.file, line: nil, message: "missing key 'kernel' and its part '\(key)'")
                }
                return value
            }
            kernel = saturatingSum(required + ["pagetables", "sec_pagetables", "percpu"].compactMap { stat.fields[$0] })
        }
        return try common(stat: stat, swap: swapCurrent, kernel: kernel, usage: current)
    }

    /// Builds the classes from v1 files: memory.stat, memory.usage_in_bytes, and memory.kmem.usage_in_bytes
    /// (nil when kmem is not accounted). Uses the hierarchical total_* keys, so the result covers the
    /// subtree like v2 does. total_rss already contains total_rss_huge; total_swap exists only with memsw
    /// accounting (swapaccount=1), else swap is nil.
    public static func v1(stat: MemoryStat, usageInBytes: UInt64, kmemUsageInBytes: UInt64?) throws(CgroupParseError) -> MemoryClasses {
        try expect(stat, is: .v1)
        return try common(stat: stat, swap: stat.fields["total_swap"], kernel: kmemUsageInBytes, usage: usageInBytes)
    }

    private static func expect(_ stat: MemoryStat, is version: CgroupVersion) throws(CgroupParseError) {
        guard stat.version == version else {
            throw CgroupParseError(file: stat.file, line: nil, message: "parsed as cgroup \(stat.version), expected \(version)")
        }
    }

    /// The part both versions share: `MemoryStat.Counter` already maps each class to its subtree key.
    private static func common(stat: MemoryStat, swap: UInt64?, kernel: UInt64?, usage: UInt64) throws(CgroupParseError) -> MemoryClasses {
        MemoryClasses(
            anonBytes: try stat.require(.anon),
            swapBytes: swap,
            fileBytes: try stat.require(.file),
            shmemBytes: try stat.require(.shmem),
            activeFileBytes: try stat.require(.activeFile),
            inactiveFileBytes: try stat.require(.inactiveFile),
            kernelBytes: kernel,
            usageBytes: usage
        )
    }

    /// The classes as metric fields, with the one-line meaning each is exposed with (Prometheus HELP).
    public enum Field: String, Sendable, CaseIterable {
        case anon, swap, file, shmem
        case activeFile = "active_file"
        case inactiveFile = "inactive_file"
        case kernel, usage
        case workingSet = "working_set"

        public var help: String {
            switch self {
            case .anon:
                "Anonymous memory (heap, stacks, private mappings) in RAM of the service's cgroup; excludes page cache and shmem. v2 memory.stat anon, v1 total_rss."
            case .swap:
                "Anonymous and shmem memory of the service's cgroup swapped out to swap. v2 memory.swap.current, v1 total_swap (needs swap accounting)."
            case .file:
                "Page cache of the service's cgroup, including shmem/tmpfs; reclaimable except shmem. v2 memory.stat file, v1 total_cache."
            case .shmem:
                "tmpfs, shm segments and shared anonymous mappings; part of file, reclaimable only to swap, tmpfs files outlive processes. v2 memory.stat shmem, v1 total_shmem."
            case .activeFile:
                "Page cache on the active LRU list (recently re-used, reclaimed last). v2 memory.stat active_file, v1 total_active_file."
            case .inactiveFile:
                "Page cache on the inactive LRU list, reclaimed first. v2 memory.stat inactive_file, v1 total_inactive_file."
            case .kernel:
                "Kernel memory charged to the service's cgroup (slab, kernel stacks, page tables, sockets). v2 memory.stat kernel, v1 memory.kmem.usage_in_bytes."
            case .usage:
                "All memory charged to the service's cgroup (anon, page cache incl. shmem, kernel), excluding swap; what systemctl and podman show. v2 memory.current, v1 memory.usage_in_bytes."
            case .workingSet:
                "Usage minus inactive page cache, floored at 0, as cAdvisor/kubelet compute it; still counts active (re-read) cache and shmem."
            }
        }
    }

    /// The value of `field`; nil for swap or kernel where this host does not account them.
    public subscript(field: Field) -> UInt64? {
        switch field {
        case .anon: anonBytes
        case .swap: swapBytes
        case .file: fileBytes
        case .shmem: shmemBytes
        case .activeFile: activeFileBytes
        case .inactiveFile: inactiveFileBytes
        case .kernel: kernelBytes
        case .usage: usageBytes
        case .workingSet: workingSetBytes
        }
    }
}
