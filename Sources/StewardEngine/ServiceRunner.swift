import CStewardSpawn
import CgroupFS
import FoundationEssentials
import Logging
import StewardConfig
import StewardCore
import Synchronization
import SystemPackage

/// What the outside world may know of a service at any moment (metrics, status, tests).
public struct ServiceSnapshot: Sendable {
    public var name: String
    public var state: ServiceState
    public var restarts: [RestartReason: Int]
    public var lastExit: ExitStatus?
    public var mainPid: Int32?
    /// Wall-clock time of the last start, seconds since the epoch.
    public var startTimeSeconds: Double?
    public var cgroup: ServiceCgroup
    /// How many events the service's machine has handled; lets a caller wait for the effect of
    /// an event it sent rather than for a state that may have held before.
    public var handledEvents = 0
    /// The last STATUS= a `ready = "notify"` service sent.
    public var statusText: String?
    /// Wall-clock time the memory guard last restarted the service, seconds since the epoch.
    public var anonLimitLastTriggerSeconds: Double?
    /// The final counters (CPU, OOM kills, memory pressure) of every run whose cgroup is gone. Each run
    /// has a cgroup of its own, so the service's counters are these plus the live run's.
    public var endedRunsCounters = CgroupCounters.none
    /// Changes whenever a run's cgroup is retired or a new one is about to be made. A reader that sees
    /// the same epoch before and after reading the cgroup, with `cgroupRetired` false, read the live
    /// run's cgroup, whose counters are not yet in `endedRunsCounters`.
    public var cgroupEpoch = 0
    /// True from the moment a run's counters went into `endedRunsCounters` until the next run's cgroup
    /// is made: whatever is still read from the old cgroup then is counted already.
    public var cgroupRetired = true

    public var isUp: Bool {
        if case .running = state { true } else { false }
    }

    /// The service's counters since Steward started, given `live`, read from its cgroup after `earlier`
    /// was taken and before this snapshot was. If a run's cgroup was retired or made in between, `live`
    /// may be the retired run's, counted already, so it is left out (the next read has it again).
    public func cumulativeCounters(adding live: CgroupCounters, readAfter earlier: ServiceSnapshot) -> CgroupCounters {
        earlier.cgroupEpoch == cgroupEpoch && !cgroupRetired ? endedRunsCounters + live : endedRunsCounters
    }
}

/// Drives one service: feeds events to its `ServiceMachine` one at a time and performs the
/// actions it returns against the kernel. Events are queued, so an action (killing a cgroup,
/// spawning) always completes before the next event is looked at.
final class ServiceRunner: Sendable {
    let configuration: ServiceConfiguration
    let cgroup: ServiceCgroup
    private let output: Output
    private let notifySocket: NotifySocket?
    private let logger: Logger
    private let events: AsyncStream<ServiceEvent>
    private let input: AsyncStream<ServiceEvent>.Continuation
    private let shared: Mutex<Shared>

    private struct Shared {
        var snapshot: ServiceSnapshot
        var process: SpawnedProcess?
        /// What stopping the current run needs, opened with its cgroup (nil between runs).
        var stopFiles: CgroupStopFiles?
        var waiters: [(predicate: @Sendable (ServiceSnapshot) -> Bool, continuation: CheckedContinuation<ServiceSnapshot, Never>)] = []
        var timers: [TimerToken.Kind: Task<Void, Never>] = [:]
        /// Set by a shutdown that forwards the signal Steward received (exec mode).
        var stopSignalOverride: Int32?
        var sentEvents = 0
        /// Samples the cgroup while the service runs with an anon limit.
        var memoryGuard: Task<Void, Never>?
    }

    private enum Output {
        case pump(OutputPump)
        case streams(@Sendable (String, ServiceStream) throws -> FileDescriptor)
    }

    /// Called after every event the machine handled (for status lines).
    private let onChange: @Sendable () -> Void

    init(configuration: ServiceConfiguration, cgroup: ServiceCgroup, output: ServiceOutput, logger: Logger,
         onChange: @escaping @Sendable () -> Void = {}) throws {
        self.onChange = onChange
        self.configuration = configuration
        self.cgroup = cgroup
        self.output = switch output {
        case .lines(let sink): .pump(try OutputPump(service: configuration.name, sink: sink))
        case .streams(let provider): .streams(provider)
        }
        var logger = logger
        logger[metadataKey: "service"] = "\(configuration.name)"
        self.logger = logger
        (events, input) = AsyncStream.makeStream(of: ServiceEvent.self)
        shared = Mutex(Shared(snapshot: ServiceSnapshot(
            name: configuration.name, state: .idle, restarts: [:], cgroup: cgroup
        )))
        let inbox = NotifyInbox()
        notifySocket = configuration.readiness == .notify
            ? try NotifySocket(service: configuration.name, onMessage: inbox.deliver)
            : nil
        inbox.set { [weak self] message in self?.received(message) }
    }

    /// The current run's kept stop files, or a set opened for one call when there are none (a spawn
    /// that failed after creating the cgroup).
    private func stopFiles() throws(CgroupFSError) -> CgroupStopFiles {
        if let kept = shared.withLock({ $0.stopFiles }) { return kept }
        return try CgroupStopFiles(cgroup)
    }

    /// An sd_notify message. Only processes inside the service's cgroup may speak for it, like
    /// systemd's NotifyAccess=all.
    private func received(_ message: NotifySocket.Message) {
        guard message.sender > 0, (try? stopFiles().pids().contains(message.sender)) == true else {
            logger.warning("ignored a notify message from pid \(message.sender), which is not in the service's cgroup")
            return
        }
        if let status = message.fields["STATUS"] {
            update { $0.snapshot.statusText = status }
        }
        if message.fields["READY"] == "1" {
            send(.ready)
        }
    }

    var snapshot: ServiceSnapshot { shared.withLock { $0.snapshot } }

    /// Queues an event; returns its sequence number (see `ServiceSnapshot.handledEvents`).
    @discardableResult
    func send(_ event: ServiceEvent) -> Int {
        shared.withLock { shared in
            shared.sentEvents += 1
            input.yield(event)
            return shared.sentEvents
        }
    }

    /// Stops the service and returns once it is settled.
    func stop(signal: Int32?) async {
        shared.withLock { $0.stopSignalOverride = signal }
        let sequence = send(.stop)
        _ = await waitUntil { $0.handledEvents >= sequence && $0.state.isSettled }
    }

    /// Forwards a signal to the main process (SIGHUP for a reload, say).
    func signalMain(_ signal: Int32) -> Bool {
        shared.withLock { shared in
            guard let pidfd = shared.process?.pidfd else { return false }
            return steward_pidfd_send_signal(pidfd.rawValue, signal) == 0
        }
    }

    /// Returns once the snapshot satisfies `predicate` (at once if it already does).
    func waitUntil(_ predicate: @escaping @Sendable (ServiceSnapshot) -> Bool) async -> ServiceSnapshot {
        await withCheckedContinuation { continuation in
            shared.withLock { shared in
                if predicate(shared.snapshot) {
                    continuation.resume(returning: shared.snapshot)
                } else {
                    shared.waiters.append((predicate, continuation))
                }
            }
        }
    }

    /// The event loop; returns after `finish()`.
    func run() async {
        var machine = ServiceMachine(
            restartPolicy: configuration.restart,
            backoff: configuration.backoff,
            stopTimeout: configuration.stopTimeout,
            readyTimeout: configuration.readiness == .notify ? configuration.startTimeout : nil
        )
        for await event in events {
            var queue = machine.handle(event, at: .now)
            while !queue.isEmpty {
                let action = queue.removeFirst()
                if let answer = await perform(action) {
                    queue += machine.handle(answer, at: .now)
                }
            }
            publish(machine)
        }
        shared.withLock { shared in
            shared.timers.values.forEach { $0.cancel() }
            shared.memoryGuard?.cancel()
        }
        if case .pump(let pump) = output { pump.close() }
        notifySocket?.close()
    }

    /// Ends the event loop; the service must be settled.
    func finish() {
        input.finish()
    }

    private func publish(_ machine: ServiceMachine) {
        update { shared in
            shared.snapshot.state = machine.state
            shared.snapshot.restarts = machine.restarts
            shared.snapshot.lastExit = machine.lastExit
            shared.snapshot.handledEvents += 1
            switch machine.state {
            case .running(let pid, _), .waitingForReady(let pid, _): shared.snapshot.mainPid = pid
            case _ where machine.state.isSettled: shared.snapshot.mainPid = nil
            default: break
            }
            if shared.snapshot.isUp {
                if shared.memoryGuard == nil { shared.memoryGuard = startMemoryGuard() }
            } else {
                shared.memoryGuard?.cancel()
                shared.memoryGuard = nil
            }
        }
    }

    /// Changes the shared state, then wakes the waiters whose predicate now holds.
    private func update(_ change: (inout Shared) -> Void) {
        let ready = shared.withLock { shared -> [(CheckedContinuation<ServiceSnapshot, Never>, ServiceSnapshot)] in
            change(&shared)
            let snapshot = shared.snapshot
            var ready: [(CheckedContinuation<ServiceSnapshot, Never>, ServiceSnapshot)] = []
            shared.waiters.removeAll { waiter in
                guard waiter.predicate(snapshot) else { return false }
                ready.append((waiter.continuation, snapshot))
                return true
            }
            return ready
        }
        for (continuation, snapshot) in ready { continuation.resume(returning: snapshot) }
        onChange()
    }

    /// Performs one action; returns the event it produces at once, if any.
    private func perform(_ action: ServiceAction) async -> ServiceEvent? {
        switch action {
        case .spawn:
            update {
                $0.snapshot.cgroupEpoch += 1
                $0.snapshot.cgroupRetired = false
            }
            do {
                let process = try spawn()
                shared.withLock {
                    $0.process = process
                    $0.snapshot.startTimeSeconds = Date().timeIntervalSince1970
                }
                logger.info("started", metadata: ["pid": "\(process.pid)"])
                return .spawned(pid: process.pid)
            } catch {
                logger.error("cannot start: \(error)")
                return .spawnFailed("\(error)")
            }
        case .sendStopSignal(let pid):
            let signal = shared.withLock { $0.stopSignalOverride } ?? configuration.stopSignal
            logger.info("stopping", metadata: ["signal": "\(signal)", "pid": "\(pid)"])
            switch configuration.killMode {
            case .controlGroup:
                do { try stopFiles().signalAll(signal) } catch { logger.error("cannot signal the cgroup: \(error)") }
            case .process:
                _ = signalMain(signal)
            }
        case .killCgroup:
            // Already killed and removed (the stop timeout fired before the main process exited).
            guard CgroupFile.exists(cgroup.trackingDirectory) else { return nil }
            var files: CgroupStopFiles?
            do {
                files = try stopFiles()
                try files?.killAll()
            } catch {
                logger.error("cannot kill the cgroup: \(error)")
            }
            let emptied = if let files { await files.waitUntilEmpty(timeout: .seconds(10)) } else { await cgroup.waitUntilEmpty(timeout: .seconds(10)) }
            if emptied {
                // Each run gets a fresh cgroup: besides leaving nothing behind, a v2 cgroup that
                // was once cgroup.kill'ed SIGKILLs children later cloned into it with
                // CLONE_INTO_CGROUP (seen on 6.18).
                retireCgroup()
            } else {
                logger.error("processes are still in the cgroup 10 s after SIGKILL", metadata: ["cgroup": "\(cgroup.trackingDirectory)"])
            }
            shared.withLock { shared in
                try? shared.process?.pidfd?.close()
                shared.process = nil
            }
        case .removeCgroup:
            retireCgroup()
        case .startTimer(let token, let delay):
            let task = Task {
                try? await Task.sleep(for: delay)
                if !Task.isCancelled { self.send(.timerFired(token)) }
            }
            shared.withLock { $0.timers.updateValue(task, forKey: token.kind)?.cancel() }
        case .log(let level, let message):
            switch level {
            case .info: logger.info("\(message)")
            case .warning: logger.warning("\(message)")
            case .error: logger.error("\(message)")
            }
        }
        return nil
    }

    /// Keeps the ended run's counters, then removes its (empty) cgroup. Nothing to do when the cgroup is
    /// gone already (killCgroup retired it before the machine asked for its removal).
    private func retireCgroup() {
        guard CgroupFile.exists(cgroup.trackingDirectory) else { return }
        let final = CgroupReader(cgroup: cgroup, budget: DescriptorBudget(descriptors: 0)).sample()?.counters ?? .none
        if let kills = final.oomKills, kills > 0 {
            // The main process's exit only says SIGKILL; this is the one place that knows why.
            logger.warning("the kernel's OOM killer killed \(kills) process(es) of this run")
        }
        update { shared in
            shared.snapshot.endedRunsCounters = shared.snapshot.endedRunsCounters + final
            shared.snapshot.cgroupEpoch += 1
            shared.snapshot.cgroupRetired = true
        }
        shared.withLock { $0.stopFiles = nil }
        do { try cgroup.remove() } catch { logger.error("cannot remove the cgroup: \(error)") }
    }

    /// While the service runs: sample anon (+ swap, + shmem if configured) of the whole cgroup and
    /// ask for a graceful restart once it stayed above the limit for the whole window. Each run
    /// gets a new task, so the window starts afresh.
    private func startMemoryGuard() -> Task<Void, Never>? {
        let memory = configuration.memory
        guard let limit = memory.anonLimitBytes else { return nil }
        let reader = CgroupReader(cgroup: cgroup, budget: DescriptorBudget(descriptors: 4))
        return Task { [logger] in
            var guardian = AnonMemoryGuard(limitBytes: limit, window: memory.anonLimitFor)
            while !Task.isCancelled {
                if let classes = reader.memory() {
                    let bytes = classes.guardedAnonBytes(includingShmem: memory.includesShmem)
                    if case .exceeded(let duration) = guardian.observe(bytes, at: .now) {
                        logger.warning("anonymous memory stayed above its limit; restarting", metadata: [
                            "anon_bytes": "\(bytes)", "limit_bytes": "\(limit)", "above_for": "\(duration)",
                            "includes_shmem": "\(memory.includesShmem)",
                        ])
                        update { $0.snapshot.anonLimitLastTriggerSeconds = Date().timeIntervalSince1970 }
                        send(.restart(.anonMemory))
                        return
                    }
                }
                try? await Task.sleep(for: memory.sampleInterval)
            }
        }
    }

    private func spawn() throws -> SpawnedProcess {
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
        environment["NOTIFY_SOCKET"] = notifySocket?.address
        guard let executable = Spawner.resolveExecutable(configuration.command[0], path: environment["PATH"]) else {
            throw SpawnFailure(message: "command not found: \(configuration.command[0])")
        }
        try cgroup.create()
        let stopFiles = try CgroupStopFiles(cgroup)
        shared.withLock { $0.stopFiles = stopFiles }
        try cgroup.setMemoryLimits(high: configuration.memory.highBytes, max: configuration.memory.maxBytes)
        let resources = configuration.resources
        try cgroup.setTaskAndCPULimits(
            pidsMax: resources.pidsMax, cpuWeight: resources.cpuWeight, cpuQuotaMicroseconds: resources.cpuQuotaMicroseconds,
            periodMicroseconds: ResourceLimits.cpuPeriodMicroseconds
        )
        let devNull = try FileDescriptor.open("/dev/null", .readOnly, options: [.closeOnExec])
        defer { try? devNull.close() }
        let stdout: FileDescriptor, stderr: FileDescriptor
        switch output {
        case .pump(let pump):
            (stdout, stderr) = (pump.stdoutWrite, pump.stderrWrite)
        case .streams(let provider):
            stdout = try provider(configuration.name, .stdout)
            do {
                stderr = try provider(configuration.name, .stderr)
            } catch {
                try? stdout.close()
                throw error
            }
        }
        defer {
            // Per-run streams belong to the child once it has them.
            if case .streams = output {
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
        return try Spawner.spawn(spec, in: cgroup) { status in
            self.send(.mainExited(status))
        }
    }

    struct SpawnFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
