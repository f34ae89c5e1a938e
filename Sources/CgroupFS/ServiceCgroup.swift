import CgroupStats
import Glibc
import SystemPackage

/// One service's cgroup: a directory of the same name in every hierarchy Steward uses.
public struct ServiceCgroup: Sendable, Equatable {
    public var name: String
    public var mode: CgroupMode
    /// The service's directory in the v2 tree (the whole cgroup on unified hosts, tracking on hybrid).
    public var v2Directory: String?
    /// The service's directory in each v1 hierarchy, keyed by that hierarchy's controllers.
    public var v1Directories: [V1Directory]

    public struct V1Directory: Sendable, Equatable {
        public var controllers: Set<String>
        public var path: String
    }

    /// Where memory.stat and friends live.
    public var memoryDirectory: String? {
        mode == .unified ? v2Directory : v1Directory(for: "memory")
    }

    public func v1Directory(for controller: String) -> String? {
        v1Directories.first { $0.controllers.contains(controller) }?.path
    }

    /// The hierarchy whose cgroup.procs lists every process of the service: the v2 tree where it
    /// exists, else (pure v1) the freezer or memory hierarchy.
    public var trackingDirectory: String {
        v2Directory ?? v1Directory(for: "freezer") ?? v1Directory(for: "memory") ?? v1Directories[0].path
    }

    var allDirectories: [String] { (v2Directory.map { [$0] } ?? []) + v1Directories.map(\.path) }

    /// Creates the directories. An existing, empty cgroup (left by a crash, or one whose removal
    /// failed) is reused, and true returned; one that still holds processes belongs to someone else
    /// and is an error.
    @discardableResult
    public func create() throws(CgroupFSError) -> Bool {
        var reused = false
        for directory in allDirectories where !(try CgroupFile.makeDirectory(directory)) {
            reused = true
        }
        if let stray = try pids().first {
            throw CgroupFSError(path: trackingDirectory, operation: "cgroup already holds process \(stray):", errno: .resourceBusy)
        }
        return reused
    }

    /// The kernel's own limits, for users who want a hard ceiling besides the graceful guard:
    /// memory.high / memory.max on v2; on v1 memory.soft_limit_in_bytes (the closest to high:
    /// reclaim pressure, no throttling) and memory.limit_in_bytes.
    public func setMemoryLimits(high: UInt64?, max: UInt64?) throws(CgroupFSError) {
        let (highFile, maxFile) = mode == .unified ? ("memory.high", "memory.max") : ("memory.soft_limit_in_bytes", "memory.limit_in_bytes")
        guard let directory = memoryDirectory else { return }
        if let high { try CgroupFile.write(String(high), to: directory + "/" + highFile) }
        if let max { try CgroupFile.write(String(max), to: directory + "/" + maxFile) }
    }

    /// The kernel's task and CPU limits: pids.max; cpu.weight and cpu.max on v2, cpu.shares
    /// (weight × 1024 / 100, as systemd converts) and cpu.cfs_period_us / cpu.cfs_quota_us on v1.
    public func setTaskAndCPULimits(pidsMax: Int?, cpuWeight: Int?, cpuQuotaMicroseconds: Int?, periodMicroseconds: Int) throws(CgroupFSError) {
        let unified = mode == .unified
        if let pidsMax, let directory = unified ? v2Directory : v1Directory(for: "pids") {
            try CgroupFile.write(String(pidsMax), to: directory + "/pids.max")
        }
        guard let directory = unified ? v2Directory : v1Directory(for: "cpu") else { return }
        if let cpuWeight {
            if unified {
                try CgroupFile.write(String(cpuWeight), to: directory + "/cpu.weight")
            } else {
                try CgroupFile.write(String(min(max(cpuWeight * 1024 / 100, 2), 262_144)), to: directory + "/cpu.shares")
            }
        }
        if let cpuQuotaMicroseconds {
            if unified {
                try CgroupFile.write("\(cpuQuotaMicroseconds) \(periodMicroseconds)", to: directory + "/cpu.max")
            } else {
                try CgroupFile.write(String(periodMicroseconds), to: directory + "/cpu.cfs_period_us")
                try CgroupFile.write(String(cpuQuotaMicroseconds), to: directory + "/cpu.cfs_quota_us")
            }
        }
    }

    public func pids() throws(CgroupFSError) -> [pid_t] {
        try CgroupFile.readPids(trackingDirectory + "/cgroup.procs")
    }

    /// The processes of the cgroup and of every cgroup below it.
    public func allPids() throws(CgroupFSError) -> [pid_t] {
        try pids() + CgroupFile.descendantPids(of: trackingDirectory)
    }

    /// Whether `pid` is in the cgroup or a cgroup below it; false when that cannot be read.
    public func contains(_ pid: pid_t) -> Bool {
        ((try? allPids()) ?? []).contains(pid)
    }

    public var isPopulated: Bool {
        get throws(CgroupFSError) { try CgroupStopFiles(self).isPopulated }
    }

    /// `CgroupStopFiles.signalAll` with files opened for this one call.
    @discardableResult
    public func signalAll(_ signal: Int32) throws(CgroupFSError) -> Int {
        try CgroupStopFiles(self).signalAll(signal)
    }

    /// `CgroupStopFiles.killAll` with files opened for this one call.
    public func killAll() throws(CgroupFSError) {
        try CgroupStopFiles(self).killAll()
    }

    /// `CgroupStopFiles.waitUntilEmpty` with files opened for this one call; true if the cgroup is
    /// gone already.
    public func waitUntilEmpty(timeout: Duration) async -> Bool {
        guard let files = try? CgroupStopFiles(self) else { return !CgroupFile.exists(trackingDirectory) }
        return await files.waitUntilEmpty(timeout: timeout)
    }

    /// Removes the directories, with any cgroups the service made below them; all must be empty.
    public func remove() throws(CgroupFSError) {
        for directory in allDirectories.reversed() {
            try CgroupFile.removeCgroupDirectory(directory)
        }
    }

    /// Descriptors the spawner needs: the v2 directory for clone3(CLONE_INTO_CGROUP) and the v1
    /// cgroup.procs files the child joins before execve. The caller closes them.
    public func openSpawnTargets() throws(CgroupFSError) -> SpawnTargets {
        var targets = SpawnTargets(cgroup2Directory: nil, v1Procs: [])
        do {
            if let v2Directory {
                targets.cgroup2Directory = try CgroupFile.open(v2Directory, .readOnly)
            }
            for directory in v1Directories {
                targets.v1Procs.append(try CgroupFile.open(directory.path + "/cgroup.procs", .writeOnly))
            }
        } catch {
            targets.close()
            throw error
        }
        return targets
    }
}

public struct SpawnTargets: Sendable {
    public var cgroup2Directory: FileDescriptor?
    public var v1Procs: [FileDescriptor]

    public func close() {
        try? cgroup2Directory?.close()
        for fd in v1Procs { try? fd.close() }
    }
}
