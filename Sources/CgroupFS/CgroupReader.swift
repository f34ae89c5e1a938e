import CgroupStats
import Glibc
import Synchronization
import SystemPackage

/// One service's cgroup as read at one moment. A value is nil when this host does not have its file
/// (no swap accounting, no PSI, no pids hierarchy) or when its file could not be read or parsed; the
/// latter are listed in `errors`. Nothing that was not read is ever reported as 0.
public struct CgroupSample: Sendable {
    public var memory: MemoryClasses?
    public var cpu: CPUStat?
    /// Tasks (processes and threads) in the cgroup: pids.current.
    public var pids: UInt64?
    /// Processes the kernel's OOM killer killed in this cgroup: oom_kill of memory.events (v2) or
    /// memory.oom_control (v1); nil on kernels without that key.
    public var oomKills: UInt64?
    /// memory.pressure (PSI) of the v2 tree, on unified and hybrid hosts with PSI enabled.
    public var memoryPressure: Pressure?
    /// What could not be read or parsed: `CgroupFSError` or `CgroupParseError`, each naming its file.
    public var errors: [any Error]

    public init(
        memory: MemoryClasses? = nil, cpu: CPUStat? = nil, pids: UInt64? = nil, oomKills: UInt64? = nil,
        memoryPressure: Pressure? = nil, errors: [any Error] = []
    ) {
        self.memory = memory
        self.cpu = cpu
        self.pids = pids
        self.oomKills = oomKills
        self.memoryPressure = memoryPressure
        self.errors = errors
    }
}

/// Reads a service's cgroup files on demand (at scrape time, and for the memory guard), keeping their
/// descriptors open between reads: a kernel file read again at offset 0 regenerates its content, at
/// half the cost of open/read/close.
///
/// It also owns the service's counters across runs. The engine gives each run a fresh cgroup, so the
/// counters a run's cgroup holds die with it: `endRun` folds them into the ended runs' total just
/// before the cgroup is removed, and `read` adds the live run's on top, all under one lock, so no
/// reader can count a run twice or miss one. A run counts from what its cgroup held when it began,
/// so a cgroup that is reused (left by a crash, or one whose removal failed) is not counted again.
/// `endRun` closes the kept descriptors; one that went stale otherwise (ENODEV: its cgroup was
/// removed behind the reader's back) is reopened once. While the cgroup does not exist the sample is
/// nil: the service has no cgroup, rather than a cgroup full of zeros.
public final class CgroupReader: Sendable {
    public let cgroup: ServiceCgroup
    private let ticksPerSecond: UInt64
    private let paths: CgroupFilePaths
    private let budget: DescriptorBudget
    /// The lock also serialises concurrent reads of this service.
    private let state = Mutex(State())

    private struct State {
        /// Kept descriptors by `CgroupFileKind`.
        var kept = [FileDescriptor?](repeating: nil, count: CgroupFileKind.allCases.count)
        /// CPU, OOM kills and pressure of every run whose cgroup is gone.
        var endedRuns = CgroupCounters.none
        /// A run's cgroup exists and its counters are not in `endedRuns` yet.
        var runIsLive = false
        /// What the live run's cgroup had counted when the run began.
        var baseline = CgroupCounters.none
        /// The highest counters `read` has returned: what metrics may have shown.
        var reported = CgroupCounters.none
    }

    /// What a read found: the live cgroup (nil if there is none) and the service's counters since
    /// the reader was made.
    public struct Reading: Sendable {
        public var sample: CgroupSample?
        public var counters: CgroupCounters
    }

    /// sysconf(_SC_CLK_TCK): the unit of v1 cpuacct.stat.
    public static let clockTicksPerSecond = UInt64(sysconf(Int32(_SC_CLK_TCK)))

    public init(cgroup: ServiceCgroup, budget: DescriptorBudget, ticksPerSecond: UInt64 = CgroupReader.clockTicksPerSecond) {
        self.cgroup = cgroup
        self.paths = CgroupFilePaths(cgroup)
        self.budget = budget
        self.ticksPerSecond = ticksPerSecond
    }

    deinit {
        state.withLock { closeAll(&$0.kept) }
    }

    /// The cgroup's values now, or nil when the cgroup does not exist (the service is not running, or a
    /// run is just beginning or ending and its directories are being created or removed).
    public func sample() -> CgroupSample? {
        state.withLock { sample(&$0) }
    }

    /// The live run's sample and the counters of all runs, consistent with each other.
    public func read() -> Reading {
        state.withLock { state in
            let live = state.runIsLive ? sample(&state) : nil
            let counters = state.runIsLive ? state.endedRuns + (live?.counters.since(state.baseline) ?? .none) : state.endedRuns
            state.reported = state.reported.fieldwiseMax(counters)
            return Reading(sample: live, counters: counters)
        }
    }

    /// What a checkpoint keeps of the counters (`CounterCheckpoint.Entry`), consistent with each other.
    public struct CounterState: Sendable, Equatable {
        public var reported: CgroupCounters
        public var endedRuns: CgroupCounters
        /// Nil when no run is live.
        public var liveRunBaseline: CgroupCounters?
    }

    public var counterState: CounterState {
        state.withLock { CounterState(reported: $0.reported, endedRuns: $0.endedRuns, liveRunBaseline: $0.runIsLive ? $0.baseline : nil) }
    }

    /// Carries on from counters an earlier Steward recorded, before this reader's first run.
    package func resume(from counters: CgroupCounters) {
        state.withLock { state in
            guard !state.runIsLive else { return }
            state.endedRuns = counters
            state.reported = counters
        }
    }

    /// Only the memory classes (what the memory guard samples): nil when the cgroup does not exist or
    /// its memory files could not be read.
    public func memory() -> MemoryClasses? {
        state.withLock { pass(&$0) { $0.memory() } } ?? nil
    }

    /// What the memory guard compares with `limitBytes`: the usage counters' upper bound when it is
    /// within the limit (the common case, two small files), else anon (+ swap, + shmem) from
    /// memory.stat. Nil when the cgroup does not exist or its files could not be read.
    package func guardedBytes(limitBytes: UInt64, includingShmem: Bool) -> UInt64? {
        state.withLock { state -> UInt64?? in
            // Between runs nothing is read: a read would reopen files of a cgroup being removed.
            guard state.runIsLive else { return nil }
            return pass(&state) { pass -> UInt64? in
                if let bound = pass.guardedUpperBound(), bound <= limitBytes { return bound }
                return pass.memory()?.guardedAnonBytes(includingShmem: includingShmem)
            }
        } ?? nil
    }

    /// A run's cgroup was made: from now on its counters count. A fresh cgroup counts from zero; a
    /// `reused` one from what it holds now.
    package func beginRun(reused: Bool) {
        state.withLock { state in
            guard !state.runIsLive else { return }
            state.baseline = reused ? sample(&state)?.counters ?? .none : .none
            state.runIsLive = true
        }
    }

    /// The run's cgroup is about to be removed: its final counters join the ended runs' (returned, for
    /// the caller to report) and its descriptors are closed. Nil when no run was live.
    @discardableResult
    package func endRun() -> CgroupCounters? {
        state.withLock { state in
            guard state.runIsLive else { return nil }
            let final = sample(&state)?.counters.since(state.baseline) ?? .none
            state.endedRuns = state.endedRuns + final
            state.runIsLive = false
            closeAll(&state.kept)
            return final
        }
    }

    /// The whole cgroup, read under the caller's hold of `state`.
    private func sample(_ state: inout State) -> CgroupSample? {
        pass(&state) { $0.sample(ticksPerSecond: ticksPerSecond) }
    }

    /// One pass over the cgroup's files with the kept descriptors; nil once the cgroup is gone.
    private func pass<T>(_ state: inout State, _ body: (inout FilePass) -> T) -> T? {
        var reading = FilePass(kept: state.kept, paths: paths, budget: budget, cgroup: cgroup)
        // The pass holds the only reference, so a descriptor it keeps does not copy the array.
        state.kept = []
        let result = body(&reading)
        state.kept = reading.kept
        if reading.cgroupIsGone {
            closeAll(&state.kept)
            return nil
        }
        return result
    }

    private func closeAll(_ kept: inout [FileDescriptor?]) {
        for index in kept.indices {
            guard let fd = kept[index] else { continue }
            try? fd.close()
            budget.giveBack(1)
            kept[index] = nil
        }
    }
}

/// Caps how many cgroup files all readers together keep open, so that metrics can never take the
/// descriptors the supervisor needs to spawn services (pipes, pidfds). Past the cap, files are opened
/// and closed on each read, which costs more but works the same.
public final class DescriptorBudget: Sendable {
    private let available: Atomic<Int>

    public init(descriptors: Int) {
        available = Atomic(descriptors)
    }

    /// A quarter of the soft RLIMIT_NOFILE: 256 of the common 1024, about 36 services' worth.
    public static func quarterOfOpenFileLimit() -> DescriptorBudget {
        var limit = rlimit()
        let soft = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int(clamping: limit.rlim_cur) : 1024
        return DescriptorBudget(descriptors: soft / 4)
    }

    /// Descriptors that may still be kept open.
    var remaining: Int { available.load(ordering: .relaxed) }

    func take() -> Bool {
        if available.subtract(1, ordering: .relaxed).oldValue > 0 { return true }
        available.add(1, ordering: .relaxed)
        return false
    }

    func giveBack(_ count: Int) {
        available.add(count, ordering: .relaxed)
    }
}

extension ServiceCgroup {
    /// The cgroup at `directories`, one per hierarchy (on a unified host its v2 directory is all there
    /// is), for reading a cgroup this process did not create (`steward inspect --cgroup`). Each
    /// directory is placed in the hierarchy whose mount point holds it.
    public init(directories: [String], layout: HostLayout) throws(CgroupFSError) {
        func isBelow(_ mountPoint: String, _ path: String) -> Bool {
            path == mountPoint || path.hasPrefix(mountPoint + "/")
        }
        var v2Directory: String?
        var v1Directories: [V1Directory] = []
        for directory in directories {
            let path = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
            if let v2 = layout.v2, isBelow(v2.mountPoint, path) {
                v2Directory = path
            } else if let hierarchy = layout.v1.first(where: { isBelow($0.mountPoint, path) }) {
                v1Directories.append(V1Directory(controllers: hierarchy.controllers, path: path))
            } else {
                throw CgroupFSError(path: path, operation: "find the cgroup hierarchy (not below a cgroup mount) of", errno: .invalidArgument)
            }
        }
        let name = String((v2Directory ?? v1Directories.first?.path ?? "").split(separator: "/").last ?? "")
        self.init(name: name, mode: layout.mode, v2Directory: v2Directory, v1Directories: v1Directories)
    }
}

extension CgroupSample {
    public var counters: CgroupCounters {
        CgroupCounters(
            cpuUserSeconds: cpu?.userSeconds,
            cpuSystemSeconds: cpu?.systemSeconds,
            oomKills: oomKills,
            memoryPressureSomeSeconds: memoryPressure?.some.totalSeconds,
            memoryPressureFullSeconds: memoryPressure?.full?.totalSeconds
        )
    }
}
