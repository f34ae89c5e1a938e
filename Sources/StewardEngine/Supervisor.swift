import CgroupStats
import CgroupFS
import Logging
import StewardConfig
import StewardCore
import Synchronization

/// Runs a set of services, each in its own cgroup below Steward's, until shut down: the library face
/// of `steward run` and `steward exec` (the CLI wires signals, systemd and the metrics server to it),
/// and what tests drive directly.
///
/// Its lifecycle is explicit: `initial` until `start()`, `running`, `reloading` while a reload is
/// carried out, `shuttingDown`, `finished`. Operators act through the command API (`start`, `stop`,
/// `restart`, `signal`, `reload`); the events a service's machine handles besides are internal.
public final class Supervisor: Sendable {
    public let tree: CgroupTree
    private let state: Mutex<State>
    private let phase = Watched(Lifecycle.initial)
    private let output: ServiceOutput
    private let budget: DescriptorBudget
    private let sampler = MemorySampler()
    private let checkpoint: CounterCheckpointFile?
    /// Bumped after every change of any service's snapshot: wait on it to follow the services (the
    /// CLI's systemd status line does).
    public let changes = Watched(0)
    private let logger: Logger

    public enum Lifecycle: String, Sendable, Equatable {
        case initial, running, reloading, shuttingDown = "shutting down", finished
    }

    private struct State {
        var configuration: StewardConfiguration
        var runners: [String: ServiceRunner] = [:]
        var loops: [String: Task<Void, Never>] = [:]
        /// The memory sampler.
        var sampler: Task<Void, Never>?
        /// Writes the counter checkpoint after changes.
        var checkpointWriter: Task<Void, Never>?
    }

    /// Prepares the cgroup tree (nothing is started yet). On error nothing is left behind.
    /// `budget` caps the cgroup files all services' readers keep open together. With
    /// `countersFile`, the services' counters are kept there while Steward runs, and a Steward
    /// started after a crash carries on from them (`CounterCheckpointFile`).
    public init(
        configuration: StewardConfiguration,
        layout: HostLayout? = nil,
        output: ServiceOutput = .lines(PrefixedOutputSink()),
        budget: DescriptorBudget = .quarterOfOpenFileLimit(),
        countersFile: String? = nil,
        logger: Logger = Logger(label: "steward")
    ) throws {
        self.output = output
        self.checkpoint = countersFile.map(CounterCheckpointFile.init)
        self.logger = logger
        self.budget = budget
        let tree = try CgroupTree(layout: layout ?? HostLayout.current(), root: configuration.cgroupRoot)
        self.tree = tree
        state = Mutex(State(configuration: configuration))
        var made: [ServiceRunner] = []
        do {
            for service in configuration.services { made.append(try makeRunner(service)) }
        } catch {
            for runner in made { runner.discard() }
            tree.tearDown()
            throw error
        }
        state.withLock { state in
            for runner in made { state.runners[runner.configuration.name] = runner }
        }
    }

    /// Services' output read line by line into `sink`.
    public convenience init(configuration: StewardConfiguration, layout: HostLayout? = nil, sink: any OutputSink, logger: Logger = Logger(label: "steward")) throws {
        try self.init(configuration: configuration, layout: layout, output: .lines(sink), logger: logger)
    }

    private func makeRunner(_ service: ServiceConfiguration) throws -> ServiceRunner {
        try ServiceRunner(configuration: service, cgroup: tree.service(named: service.name), budget: budget, output: output,
                          sampler: sampler, changes: changes, logger: logger)
    }

    public var lifecycle: Lifecycle { phase.value }

    /// The configuration in force (it changes with `reload`).
    public var configuration: StewardConfiguration { state.withLock { $0.configuration } }

    public var serviceNames: [String] { configuration.services.map(\.name) }

    private func runner(_ name: String) -> ServiceRunner? { state.withLock { $0.runners[name] } }

    private var runners: [ServiceRunner] {
        state.withLock { state in state.configuration.services.compactMap { state.runners[$0.name] } }
    }

    public func snapshot(of name: String) -> ServiceSnapshot? { runner(name)?.snapshot.value }

    public var snapshots: [ServiceSnapshot] { runners.map(\.snapshot.value) }

    /// A supervised service as metrics see it: its state, its settings, and the reader that owns its
    /// cgroup's files and counters.
    public struct Service: Sendable {
        public var snapshot: ServiceSnapshot
        public var configuration: ServiceConfiguration
        public var reader: CgroupReader

        init(_ runner: ServiceRunner) {
            (snapshot, configuration, reader) = (runner.snapshot.value, runner.configuration, runner.reader)
        }
    }

    public var services: [Service] {
        runners.map(Service.init)
    }

    public func service(named name: String) -> Service? {
        runner(name).map(Service.init)
    }

    /// Stops what an earlier Steward left in the services' cgroups (`Leftovers`), then starts the
    /// event loops, the memory guard and every service marked `autostart` (side by side); returns
    /// once each of those has been spawned (or failed to be). Only the first call does anything.
    public func start() async {
        guard phase.value == .initial else { return }
        // Resumed only when no other Steward uses the same root: its services' counters are its own.
        checkpoint?.open(resuming: tree.ownsRootAlone ? runners : nil, logger: logger)
        await Leftovers.stopAll(configuration.services, in: tree, logger: logger)
        var began = false
        let sampler = sampler
        // The loops exist before `running` is seen: a reload or shutdown that sees it finds every
        // service able to answer.
        phase.update { phase in
            guard phase == .initial else { return }
            began = true
            startLoops(of: runners)
            state.withLock { state in
                state.sampler = Task { await sampler.run() }
                state.checkpointWriter = checkpoint.map { checkpoint in
                    Task { await checkpoint.recordAfterChanges(self.changes, of: { self.runners }, logger: self.logger) }
                }
            }
            phase = .running
        }
        guard began else { return }
        await startAutostartServices(runners)
    }

    /// Records every service's counters in the checkpoint file, if there is one: what a scrape is
    /// about to show must be there before it is shown, so that no counter can go back after a crash.
    public func recordCounters() {
        checkpoint?.record(runners, logger: logger)
    }

    private func startLoops(of runners: [ServiceRunner]) {
        state.withLock { state in
            for runner in runners { state.loops[runner.configuration.name] = Task { await runner.run() } }
        }
    }

    /// Starts the services of `runners` marked `autostart`, side by side.
    private func startAutostartServices(_ runners: [ServiceRunner]) async {
        await withTaskGroup(of: Void.self) { group in
            for runner in runners where runner.configuration.autostart {
                group.addTask { _ = await runner.command(.start) }
            }
        }
    }

    // MARK: The command API

    /// Carries out `command` on one service; returns once the service has handled it (a start has
    /// spawned, a stop has sent the stop signal): wait with `waitUntil` for a state further on.
    public func perform(_ command: ServiceCommand, on name: String) async -> CommandOutcome {
        let lifecycle = phase.value
        guard lifecycle == .running || lifecycle == .reloading else { return .refused(lifecycle) }
        guard let runner = runner(name) else { return .unknownService }
        return await runner.command(command)
    }

    @discardableResult
    public func start(_ name: String) async -> CommandOutcome { await perform(.start, on: name) }

    @discardableResult
    public func stop(_ name: String) async -> CommandOutcome { await perform(.stop, on: name) }

    @discardableResult
    public func restart(_ name: String) async -> CommandOutcome { await perform(.restart, on: name) }

    /// Sends `signal` to the main process of a service, or to every process in its cgroup.
    @discardableResult
    public func signal(_ signal: Int32, to name: String, target: SignalTarget = .mainProcess) async -> CommandOutcome {
        await perform(.signal(signal, to: target), on: name)
    }

    /// Returns once the service's snapshot satisfies `predicate`; nil for an unknown service or when
    /// the waiting task is cancelled.
    public func waitUntil(_ name: String, _ predicate: @escaping @Sendable (ServiceSnapshot) -> Bool) async -> ServiceSnapshot? {
        try? await runner(name)?.snapshot.wait(until: predicate)
    }

    /// Returns once every service has ended by itself (exited or failed) or was never started.
    public func waitUntilAllEnded() async {
        for runner in state.withLock({ Array($0.runners.values) }) {
            _ = try? await runner.snapshot.wait { $0.state.isSettled }
        }
    }

    /// Why a reload did not happen.
    public struct ReloadRefused: Error, CustomStringConvertible {
        public var lifecycle: Lifecycle
        public var description: String { "cannot reload while \(lifecycle.rawValue)" }
    }

    /// Applies a new configuration without touching what did not change (`ReloadPlan`). The new
    /// services' runners are made first, so a failure there leaves everything running as it was.
    /// Refused unless the supervisor is running (not before `start`, not during another reload or a
    /// shutdown).
    @discardableResult
    public func reload(_ new: StewardConfiguration) async throws -> ReloadPlan {
        var refusedIn: Lifecycle?
        phase.update { phase in
            guard phase == .running else { refusedIn = phase; return }
            phase = .reloading
        }
        if let refusedIn { throw ReloadRefused(lifecycle: refusedIn) }
        defer { phase.update { if $0 == .reloading { $0 = .running } } }
        let plan = ReloadPlan(from: configuration, to: new)
        let services = Dictionary(plan.configuration.services.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var fresh: [ServiceRunner] = []
        do {
            for name in plan.toStart { fresh.append(try makeRunner(services[name]!)) }
        } catch {
            for runner in fresh { runner.discard() }
            throw error
        }
        await retire(plan.toStop)
        state.withLock { state in
            state.configuration = plan.configuration
            for runner in fresh { state.runners[runner.configuration.name] = runner }
        }
        startLoops(of: fresh)
        await startAutostartServices(fresh)
        return plan
    }

    /// Stops services and ends their event loops.
    private func retire(_ names: [String]) async {
        let retired = state.withLock { state in
            names.compactMap { name in state.runners.removeValue(forKey: name).map { ($0, state.loops.removeValue(forKey: name)) } }
        }
        await withTaskGroup(of: Void.self) { group in
            for (runner, loop) in retired {
                group.addTask {
                    await runner.stop(signal: nil)
                    runner.finish()
                    await loop?.value
                }
            }
        }
    }

    /// Stops every service side by side (each within its stop timeout), removes their cgroups and
    /// what Steward created. `signal` replaces the services' stop signal (exec mode forwards the
    /// signal Steward received). Waits for a reload under way to end first; a second call waits
    /// for the first to finish.
    public func shutdown(signal: Int32? = nil) async {
        // Its waits must not end early for a cancelled caller (a service-lifecycle teardown): a
        // shutdown cut short would leave services running and cgroups behind.
        await Task { await self.shutDown(signal: signal) }.value
    }

    private func shutDown(signal: Int32?) async {
        var first = false
        while !first {
            var reloading = false
            phase.update { phase in
                switch phase {
                case .reloading: reloading = true
                case .shuttingDown, .finished: break
                case .initial, .running:
                    phase = .shuttingDown
                    first = true
                }
            }
            guard reloading else { break }
            _ = try? await phase.wait { $0 != .reloading }
        }
        guard first else {
            _ = try? await phase.wait { $0 == .finished }
            return
        }
        let (runners, loops) = state.withLock { state in (Array(state.runners.values), state.loops) }
        // A runner whose loop never started (Steward stopped before `start`) has nothing to stop,
        // and nobody would answer its stop event.
        await withTaskGroup(of: Void.self) { group in
            for runner in runners where loops[runner.configuration.name] != nil {
                group.addTask { await runner.stop(signal: signal) }
            }
        }
        for runner in runners {
            if loops[runner.configuration.name] != nil { runner.finish() } else { runner.discard() }
        }
        for loop in loops.values { await loop.value }
        let (sampler, writer) = state.withLock { ($0.sampler, $0.checkpointWriter) }
        sampler?.cancel()
        if let writer {
            writer.cancel()
            await writer.value
            // Every service stopped: nothing for a next Steward to carry on from. (Without a start,
            // an earlier Steward's checkpoint is left for the next one, with its leftovers.)
            checkpoint?.remove()
        }
        tree.tearDown()
        phase.update { $0 = .finished }
    }
}
