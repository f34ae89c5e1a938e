import CgroupFS
import CgroupStats
import FoundationEssentials
import Logging
import StewardConfig
import StewardCore

/// One service's inbox and event loop. Every input of the service (a command, the spawn's answer,
/// the main process's exit, a timer, a notify message, the memory guard's verdict) arrives on one
/// stream and is handled to the end, actions included, before the next is looked at; nothing is
/// decided under a lock. The machine decides, `RunEffects` acts, `snapshot` tells the world.
final class ServiceRunner: Sendable {
    let configuration: ServiceConfiguration
    let cgroup: ServiceCgroup
    /// Reads the service's cgroup and owns its counters across runs (metrics and the guard ask it).
    let reader: CgroupReader
    let snapshot: Watched<ServiceSnapshot>
    private let inputs: AsyncStream<Input>
    private let inbox: AsyncStream<Input>.Continuation
    private let notifySocket: NotifySocket?
    private let output: RunOutput
    private let sampler: MemorySampler
    /// Bumped after every change of any service's snapshot (the supervisor's status line follows it).
    private let changes: Watched<Int>
    private let logger: Logger

    enum Input: Sendable {
        case event(ServiceEvent)
        case command(ServiceCommand, reply: CheckedContinuation<CommandOutcome, Never>)
        /// Stop for good, with this signal instead of the stop signal (exec forwards Steward's).
        case shutdown(signal: Int32?, handled: CheckedContinuation<Void, Never>)
        case notify(NotifySocket.Message)
        case anonLimitExceeded(AnonLimitVerdict)
    }

    init(configuration: ServiceConfiguration, cgroup: ServiceCgroup, budget: DescriptorBudget, output: ServiceOutput,
         sampler: MemorySampler, changes: Watched<Int>, logger: Logger) throws {
        self.configuration = configuration
        self.changes = changes
        self.cgroup = cgroup
        self.sampler = sampler
        reader = CgroupReader(cgroup: cgroup, budget: budget)
        var logger = logger
        logger[metadataKey: "service"] = "\(configuration.name)"
        self.logger = logger
        snapshot = Watched(ServiceSnapshot(name: configuration.name, state: .idle, restarts: [:], cgroup: cgroup))
        let (inputs, inbox) = AsyncStream.makeStream(of: Input.self)
        (self.inputs, self.inbox) = (inputs, inbox)
        self.output = try RunOutput(output, service: configuration.name)
        notifySocket = configuration.readiness == .notify
            ? try NotifySocket(service: configuration.name) { [logger] message in
                // Only processes inside the service's cgroup may speak for it, like systemd's
                // NotifyAccess=all; checked on arrival, while a sender that exits at once still counts.
                guard message.sender > 0, cgroup.contains(message.sender) else {
                    logger.warning("ignored a notify message from pid \(message.sender), which is not in the service's cgroup")
                    return
                }
                inbox.yield(.notify(message))
            }
            : nil
    }

    /// Queues a command; returns once the service has handled it (its actions performed).
    func command(_ command: ServiceCommand) async -> CommandOutcome {
        await withCheckedContinuation { reply in
            if case .terminated = inbox.yield(.command(command, reply: reply)) { reply.resume(returning: .refused(.finished)) }
        }
    }

    /// Stops the service for good and returns once it is settled; later commands are refused. The
    /// wait starts only once the stop is handled, so a start queued before it cannot slip in after a
    /// settled state was seen, and it is not cut short by the caller's cancellation.
    func stop(signal: Int32?) async {
        await Task {
            await withCheckedContinuation { handled in
                if case .terminated = self.inbox.yield(.shutdown(signal: signal, handled: handled)) { handled.resume() }
            }
            _ = try? await self.snapshot.wait { $0.state.isSettled }
        }.value
    }

    /// Carries on from an earlier Steward's counts and counters; only before the loop runs.
    func resume(restarts: [RestartReason: Int], counters: CgroupCounters) {
        snapshot.update { $0.restarts = restarts }
        reader.resume(from: counters)
    }

    /// Releases what a runner whose loop never ran holds (its output pipes, its notify socket).
    func discard() {
        inbox.finish()
        output.close()
        notifySocket?.close()
    }

    /// Ends the event loop once the queued inputs are handled; the service must be settled.
    func finish() {
        inbox.finish()
    }

    /// The event loop; returns after `finish()`.
    func run() async {
        var machine = ServiceMachine(
            restartPolicy: configuration.restart,
            backoff: configuration.backoff,
            stopTimeout: configuration.stopTimeout,
            readyTimeout: configuration.readiness == .notify ? configuration.startTimeout : nil,
            restarts: snapshot.value.restarts
        )
        let inbox = inbox
        var effects = RunEffects(
            configuration: configuration, cgroup: cgroup, reader: reader, output: output, notifyAddress: notifySocket?.address,
            logger: logger, post: { inbox.yield(.event($0)) }
        )
        var guardWatch: MemorySampler.Watch?
        /// Set by `.shutdown`: the service is stopped for good, whatever comes after.
        var retired = false
        for await input in inputs {
            switch input {
            case .event(let event):
                await handle(event, &machine, &effects)
            case .command(let command, let reply):
                if retired, command != .stop {
                    reply.resume(returning: .refused(.shuttingDown))
                    continue
                }
                let reaction = await handle(.command(command), &machine, &effects)
                let outcome: CommandOutcome = if case .ignore(let reason) = reaction { .ignored(reason) } else { .accepted }
                reply.resume(returning: outcome)
            case .shutdown(let signal, let handled):
                retired = true
                effects.stopSignalOverride = signal
                await handle(.command(.stop), &machine, &effects)
                handled.resume()
            case .notify(let message):
                await received(message, &machine, &effects)
            case .anonLimitExceeded(let verdict):
                await handle(.anonLimitExceeded(pid: verdict.pid), &machine, &effects) { _ in
                    self.logger.warning("anonymous memory stayed above its limit; restarting", metadata: [
                        "anon_bytes": "\(verdict.anonBytes)", "limit_bytes": "\(verdict.limitBytes)", "above_for": "\(verdict.aboveFor)",
                        "includes_shmem": "\(self.configuration.memory.includesShmem)",
                    ])
                    self.snapshot.update { $0.anonLimitLastTriggerSeconds = Date().timeIntervalSince1970 }
                }
            }
            guardWatch = updateGuard(guardWatch, state: machine.state)
        }
        if let guardWatch { sampler.unwatch(guardWatch) }
        effects.close()
        notifySocket?.close()
    }

    /// Hands `event` to the machine and performs what it decides (`accepted` runs first, when it
    /// acts), feeding answers such as `spawned` straight back; then publishes the new state.
    @discardableResult
    private func handle(_ event: ServiceEvent, _ machine: inout ServiceMachine, _ effects: inout RunEffects,
                        accepted: (Reaction) -> Void = { _ in }) async -> Reaction {
        let reaction = machine.handle(event, at: .now)
        if case .ignore(let reason) = reaction {
            logger.debug("ignored \(event): \(reason.rawValue)")
            return reaction
        }
        accepted(reaction)
        var queue = reaction.actions
        while !queue.isEmpty {
            if let answer = await effects.perform(queue.removeFirst()) {
                queue += machine.handle(answer, at: .now).actions
            }
        }
        let (state, restarts, lastExit, started) = (machine.state, machine.restarts, machine.lastExit, effects.startTimeSeconds)
        snapshot.update { snapshot in
            snapshot.state = state
            snapshot.restarts = restarts
            snapshot.lastExit = lastExit
            snapshot.startTimeSeconds = started
        }
        changes.update { $0 += 1 }
        return reaction
    }

    /// An sd_notify message from a process of the service's cgroup (checked when it arrived).
    private func received(_ message: NotifySocket.Message, _ machine: inout ServiceMachine, _ effects: inout RunEffects) async {
        if let status = message.fields["STATUS"] {
            snapshot.update { $0.statusText = status }
        }
        if message.fields["READY"] == "1" {
            await handle(.ready, &machine, &effects)
        }
    }

    /// The guard watches a run while it is running with an anon limit; each run starts its window
    /// afresh.
    private func updateGuard(_ watch: MemorySampler.Watch?, state: ServiceState) -> MemorySampler.Watch? {
        let memory = configuration.memory
        guard let limit = memory.anonLimitBytes, case .running(let pid, _) = state else {
            if let watch { sampler.unwatch(watch) }
            return nil
        }
        if let watch, watch.pid == pid { return watch }
        if let watch { sampler.unwatch(watch) }
        let inbox = inbox
        return sampler.watch(pid: pid, reader: reader, limitBytes: limit, memory: memory) { inbox.yield(.anonLimitExceeded($0)) }
    }
}
