import CgroupStats
import Glibc
import SystemPackage

/// The files a stop needs, opened when a run's cgroup is created and kept until it is removed, so
/// that stopping and killing a service never needs a spare descriptor: a Steward whose clients have
/// taken every descriptor can still kill the whole cgroup and see it empty. (On pure cgroup v1,
/// listing the processes still opens cgroup.procs each time: see `pids`.)
///
/// `ServiceCgroup`'s own signal, kill and wait methods open a set for the one call.
public final class CgroupStopFiles: Sendable {
    public let cgroup: ServiceCgroup
    /// The v2 tree's cgroup.procs; nil on pure v1, where it cannot be kept (see `pids`).
    private let procs: FileDescriptor?
    /// v2 cgroup.kill (kernel 5.14+).
    private let kill: FileDescriptor?
    /// Pure v1 without cgroup.kill: freeze, kill, thaw.
    private let freezer: FileDescriptor?
    /// v2 cgroup.events ("populated 0|1").
    private let events: FileDescriptor?

    public init(_ cgroup: ServiceCgroup) throws(CgroupFSError) {
        self.cgroup = cgroup
        var opened: [FileDescriptor] = []
        func open(_ path: String, _ mode: FileDescriptor.AccessMode) throws(CgroupFSError) -> FileDescriptor {
            let fd = try CgroupFile.open(path, mode)
            opened.append(fd)
            return fd
        }
        do throws(CgroupFSError) {
            let v2 = cgroup.v2Directory
            procs = try v2.map { path throws(CgroupFSError) in try open(path + "/cgroup.procs", .readOnly) }
            if let v2, CgroupFile.exists(v2 + "/cgroup.kill") {
                kill = try open(v2 + "/cgroup.kill", .writeOnly)
                freezer = nil
            } else {
                kill = nil
                freezer = try cgroup.v1Directory(for: "freezer").map { path throws(CgroupFSError) in try open(path + "/freezer.state", .writeOnly) }
            }
            events = try v2.map { path throws(CgroupFSError) in try open(path + "/cgroup.events", .readOnly) }
        } catch {
            for fd in opened { try? fd.close() }
            throw error
        }
    }

    deinit {
        for fd in [procs, kill, freezer, events].compactMap({ $0 }) { try? fd.close() }
    }

    public func pids() throws(CgroupFSError) -> [pid_t] {
        let path = cgroup.trackingDirectory + "/cgroup.procs"
        // v2 lists the cgroup afresh on every read from offset 0. v1 keeps the list it built for an
        // open file and reuses it while reads keep coming (cgroup_pidlist_find), so a kept v1
        // descriptor would never see the cgroup empty: there it is opened for each read.
        guard let procs else { return try CgroupFile.readPids(path) }
        return try CgroupFile.parse(CgroupFile.readText(procs, path: path)) { text throws(CgroupParseError) in try PidList.parse(text, file: path) }
    }

    public var isPopulated: Bool {
        get throws(CgroupFSError) {
            if let events, let v2 = cgroup.v2Directory {
                let path = v2 + "/cgroup.events"
                return try CgroupFile.parse(CgroupFile.readText(events, path: path)) { text throws(CgroupParseError) in
                    guard let populated = try CgroupEvents(parsing: text, file: path).populated else {
                        throw CgroupParseError(file: path, line: nil, message: "no 'populated' key")
                    }
                    return populated
                }
            }
            // Pure v1 has no such file: the cgroup and every cgroup a service made below it.
            if try !pids().isEmpty { return true }
            return try !CgroupFile.descendantPids(of: cgroup.trackingDirectory).isEmpty
        }
    }

    /// Signals every process in the cgroup and in every cgroup below it (a service may make its own),
    /// again and again until a pass finds no pid it has not signalled yet, so processes forked
    /// meanwhile are caught too (systemd's cg_kill_recursive). A process that exited in between
    /// (ESRCH) is fine; any other failure of kill() is thrown once the passes are done. Returns how
    /// many processes were signalled.
    @discardableResult
    public func signalAll(_ signal: Int32) throws(CgroupFSError) -> Int {
        var signalled = Set<pid_t>()
        var failure: CgroupFSError?
        while true {
            let fresh = try pids() + CgroupFile.descendantPids(of: cgroup.trackingDirectory)
            let unseen = fresh.filter { !signalled.contains($0) }
            if unseen.isEmpty { break }
            for pid in unseen {
                signalled.insert(pid)
                if Glibc.kill(pid, signal) != 0, Glibc.errno != ESRCH {
                    failure = CgroupFSError(path: cgroup.trackingDirectory, operation: "kill(\(pid), \(signal)) in", errno: Errno(rawValue: Glibc.errno))
                    continue
                }
                // A stopped process cannot act on SIGTERM until it is continued.
                if signal != SIGKILL && signal != SIGCONT { Glibc.kill(pid, SIGCONT) }
            }
        }
        if let failure { throw failure }
        return signalled.count
    }

    /// SIGKILLs every process in the cgroup without a race against forks: cgroup.kill where the
    /// kernel has it (v2, 5.14+), else freeze, kill and thaw (v1 freezer), else repeated passes.
    public func killAll() throws(CgroupFSError) {
        if let kill {
            try write("1", to: kill, path: "cgroup.kill")
            return
        }
        guard let freezer else {
            try signalAll(SIGKILL)
            return
        }
        try write("FROZEN", to: freezer, path: "freezer.state")
        defer { try? write("THAWED", to: freezer, path: "freezer.state") }
        try signalAll(SIGKILL)
    }

    private func write(_ text: String, to fd: FileDescriptor, path: String) throws(CgroupFSError) {
        do {
            _ = try fd.writeAll(toAbsoluteOffset: 0, text.utf8)
        } catch {
            throw CgroupFSError(path: cgroup.trackingDirectory + "/" + path, operation: "write \"\(text)\" to", errno: error as? Errno ?? .ioError)
        }
    }

    /// Waits until no process is left, parking no thread: on the v2 tree the kernel announces it in
    /// cgroup.events (one process-wide inotify instance: `CgroupEventsWatch`); pure v1 has no such
    /// event, so there it polls, sleeping between looks, as it does when no watch can be had. A file
    /// that cannot be read counts as populated unless the cgroup is gone. True once empty.
    public func waitUntilEmpty(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        let watch = CgroupEventsWatch.shared
        let ticket = cgroup.v2Directory.flatMap { watch?.arm($0 + "/cgroup.events") }
        defer { if let ticket { watch?.disarm(ticket) } }
        var pollInterval = Duration.milliseconds(1)
        while true {
            let seen = ticket.map { watch?.changes($0) ?? 0 } ?? 0
            switch Result(catching: { () throws(CgroupFSError) in try isPopulated }) {
            case .success(false): return true
            case .failure where !CgroupFile.exists(cgroup.trackingDirectory): return true
            case .success(true), .failure: break
            }
            if ContinuousClock.now >= deadline || Task.isCancelled { return false }
            if let ticket, let watch {
                await watch.wait(ticket, after: seen, until: deadline)
            } else {
                try? await Task.sleep(until: min(ContinuousClock.now + pollInterval, deadline))
                pollInterval = min(pollInterval * 2, .milliseconds(50))
            }
        }
    }
}
