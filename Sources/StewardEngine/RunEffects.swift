import CStewardSpawn
import CgroupFS
import FoundationEssentials
import Glibc
import Logging
import StewardConfig
import StewardCore
import SystemPackage

/// Performs a service's actions against the kernel: spawns runs, signals, kills and removes their
/// cgroups, starts timers. Owned by the service's event loop and used only from it, one action at a
/// time; what it learns later (a timer fired, the main process exited) it posts to the service's
/// inbox through `post`.
struct RunEffects {
    let configuration: ServiceConfiguration
    let cgroup: ServiceCgroup
    /// Owns the service's counters across runs: told when a run's cgroup is made and retired.
    let reader: CgroupReader
    let output: RunOutput
    let notifyAddress: String?
    let logger: Logger
    let post: @Sendable (ServiceEvent) -> Void

    private(set) var process: SpawnedProcess?
    /// Wall-clock time of the last successful spawn, seconds since the epoch.
    private(set) var startTimeSeconds: Double?
    /// What stopping the current run needs, opened with its cgroup (nil between runs).
    private(set) var stopFiles: CgroupStopFiles?
    private var timers: [TimerToken.Kind: Task<Void, Never>] = [:]
    /// Set by a shutdown that forwards the signal Steward received (exec mode).
    var stopSignalOverride: Int32?

    init(configuration: ServiceConfiguration, cgroup: ServiceCgroup, reader: CgroupReader, output: RunOutput, notifyAddress: String?,
         logger: Logger, post: @escaping @Sendable (ServiceEvent) -> Void) {
        self.configuration = configuration
        self.cgroup = cgroup
        self.reader = reader
        self.output = output
        self.notifyAddress = notifyAddress
        self.logger = logger
        self.post = post
    }

    /// Performs one action; returns the event it produces at once, if any.
    mutating func perform(_ action: ServiceAction) async -> ServiceEvent? {
        switch action {
        case .spawn:
            do {
                let process = try await spawn()
                self.process = process
                startTimeSeconds = Date().timeIntervalSince1970
                logger.info("started", metadata: ["pid": "\(process.pid)"])
                return .spawned(pid: process.pid)
            } catch {
                logger.error("cannot start: \(error)")
                return .spawnFailed(SpawnFailure("\(error)"))
            }
        case .sendStopSignal(let pid):
            let signal = stopSignalOverride ?? configuration.stopSignal
            logger.info("stopping", metadata: ["signal": "\(signal)", "pid": "\(pid)"])
            send(signal, to: configuration.killMode == .controlGroup ? .wholeCgroup : .mainProcess)
        case .sendSignal(let signal, let target, let pid):
            logger.info("sending a signal", metadata: ["signal": "\(signal)", "to": "\(target.rawValue)", "pid": "\(pid)"])
            send(signal, to: target)
        case .killCgroup:
            await killCgroup()
        case .removeCgroup:
            retireCgroup()
        case .startTimer(let token, let delay):
            let post = post
            let task = Task {
                try? await Task.sleep(for: delay)
                if !Task.isCancelled { post(.timerFired(token)) }
            }
            timers.updateValue(task, forKey: token.kind)?.cancel()
        case .log(let level, let message):
            switch level {
            case .info: logger.info("\(message)")
            case .warning: logger.warning("\(message)")
            case .error: logger.error("\(message)")
            }
        }
        return nil
    }

    /// Cancels the timers; the loop is ending.
    mutating func close() {
        timers.values.forEach { $0.cancel() }
        timers.removeAll()
        output.close()
    }

    private func send(_ signal: Int32, to target: SignalTarget) {
        switch target {
        case .wholeCgroup:
            do { try currentStopFiles().signalAll(signal) } catch { logger.error("cannot signal the cgroup: \(error)") }
        case .mainProcess:
            guard let pidfd = process?.pidfd else { return }
            if steward_pidfd_send_signal(pidfd.rawValue, signal) != 0 {
                logger.error("cannot signal the main process: \(Errno(rawValue: errno))")
            }
        }
    }

    /// The current run's kept stop files, or a set opened for one call when there are none (a spawn
    /// that failed after creating the cgroup).
    private func currentStopFiles() throws(CgroupFSError) -> CgroupStopFiles {
        if let stopFiles { return stopFiles }
        return try CgroupStopFiles(cgroup)
    }

    private mutating func killCgroup() async {
        // Already killed and removed (the stop timeout fired before the main process exited).
        guard CgroupFile.exists(cgroup.trackingDirectory) else { return }
        var files: CgroupStopFiles?
        do {
            files = try currentStopFiles()
            try files?.killAll()
        } catch {
            logger.error("cannot kill the cgroup: \(error)")
        }
        let emptied = if let files { await files.waitUntilEmpty(timeout: .seconds(10)) } else { await cgroup.waitUntilEmpty(timeout: .seconds(10)) }
        if emptied {
            // Each run gets a fresh cgroup: besides leaving nothing behind, a v2 cgroup that was once
            // cgroup.kill'ed SIGKILLs children later cloned into it with CLONE_INTO_CGROUP (seen on 6.18).
            retireCgroup()
        } else {
            logger.error("processes are still in the cgroup 10 s after SIGKILL", metadata: ["cgroup": "\(cgroup.trackingDirectory)"])
        }
        try? process?.pidfd?.close()
        process = nil
    }

    /// Folds the ended run's counters into the service's, then removes its (empty) cgroup. Nothing
    /// to do when the cgroup is gone already (killCgroup retired it before the machine asked).
    private mutating func retireCgroup() {
        guard CgroupFile.exists(cgroup.trackingDirectory) else { return }
        if let kills = reader.endRun()?.oomKills, kills > 0 {
            // The main process's exit only says SIGKILL; this is the one place that knows why.
            logger.warning("the kernel's OOM killer killed \(kills) process(es) of this run")
        }
        stopFiles = nil
        do { try cgroup.remove() } catch { logger.error("cannot remove the cgroup: \(error)") }
    }

    private mutating func spawn() async throws -> SpawnedProcess {
        var environment = ProcessInfo.processInfo.environment
        // What systemd handed to Steward itself is not the services' to use.
        for variable in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "INVOCATION_ID"] {
            environment[variable] = nil
        }
        var identity: SpawnSpec.Identity?
        if let user = configuration.user {
            let resolved = try IdentityResolver.resolve(user: user, group: configuration.group)
            identity = resolved.identity
            environment["USER"] = resolved.userName
            environment["LOGNAME"] = resolved.userName
            environment["HOME"] = resolved.home
        }
        environment.merge(configuration.environment) { _, configured in configured }
        environment["NOTIFY_SOCKET"] = notifyAddress
        guard let executable = Spawner.resolveExecutable(configuration.command[0], path: environment["PATH"]) else {
            throw SpawnFailure("command not found: \(configuration.command[0])")
        }
        reader.beginRun(reused: try cgroup.create())
        stopFiles = try CgroupStopFiles(cgroup)
        try cgroup.setMemoryLimits(high: configuration.memory.highBytes, max: configuration.memory.maxBytes)
        let resources = configuration.resources
        try cgroup.setTaskAndCPULimits(
            pidsMax: resources.pidsMax, cpuWeight: resources.cpuWeight, cpuQuotaMicroseconds: resources.cpuQuotaMicroseconds,
            periodMicroseconds: ResourceLimits.cpuPeriodMicroseconds
        )
        let devNull = try FileDescriptor.open("/dev/null", .readOnly, options: [.closeOnExec])
        defer { try? devNull.close() }
        let (stdout, stderr, ownedByRun) = try output.descriptors(service: configuration.name)
        defer {
            // Per-run streams belong to the child once it has them.
            if ownedByRun {
                try? stdout.close()
                try? stderr.close()
            }
        }
        let spec = SpawnSpec(
            executable: executable,
            arguments: configuration.command,
            environment: environment,
            workingDirectory: configuration.workingDirectory,
            identity: identity,
            stdin: devNull,
            stdout: stdout,
            stderr: stderr
        )
        let post = post
        return try await Spawner.spawn(spec, in: cgroup) { pid, status in post(.mainExited(pid: pid, status)) }
    }
}
