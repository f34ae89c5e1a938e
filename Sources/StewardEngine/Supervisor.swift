import CgroupFS
import Glibc
import Logging
import StewardConfig
import StewardCore
import Synchronization
import UnixSignals

/// Runs a set of services, each in its own cgroup below Steward's, until shut down. The library
/// face of `steward run` and `steward exec`; tests drive it directly.
public final class Supervisor: Sendable {
    public let tree: CgroupTree
    private let state: Mutex<State>
    private let shutdownStarted = Mutex(false)
    private let output: ServiceOutput
    private let logger: Logger
    private let observer: any LifecycleObserver
    private let lastStatus = Mutex("")
    private let statusChanged = Relay()

    private struct State {
        var configuration: StewardConfiguration
        var runners: [String: ServiceRunner] = [:]
        var loops: [String: Task<Void, Never>] = [:]
    }

    /// Prepares the cgroup tree (nothing is started yet). On error nothing is left behind.
    public init(
        configuration: StewardConfiguration,
        layout: HostLayout? = nil,
        output: ServiceOutput = .lines(PrefixedOutputSink()),
        observer: any LifecycleObserver = SilentLifecycleObserver(),
        logger: Logger = Logger(label: "steward")
    ) throws {
        self.output = output
        self.logger = logger
        self.observer = observer
        let tree = try CgroupTree(layout: layout ?? HostLayout.current(), root: configuration.cgroupRoot)
        self.tree = tree
        var state = State(configuration: configuration)
        do {
            for service in configuration.services {
                state.runners[service.name] = try Self.makeRunner(service, tree: tree, output: output, logger: logger, relay: statusChanged)
            }
        } catch {
            tree.tearDown()
            throw error
        }
        self.state = Mutex(state)
        statusChanged.set { [weak self] in self?.publishStatus() }
    }

    /// Services' output read line by line into `sink`.
    public convenience init(configuration: StewardConfiguration, layout: HostLayout? = nil, sink: any OutputSink, logger: Logger = Logger(label: "steward")) throws {
        try self.init(configuration: configuration, layout: layout, output: .lines(sink), logger: logger)
    }

    private static func makeRunner(_ service: ServiceConfiguration, tree: CgroupTree, output: ServiceOutput, logger: Logger, relay: Relay) throws -> ServiceRunner {
        try ServiceRunner(configuration: service, cgroup: tree.service(named: service.name), output: output, logger: logger,
                          onChange: { relay.fire() })
    }

    /// The configuration in force (it changes with `reload`).
    public var configuration: StewardConfiguration { state.withLock { $0.configuration } }

    public var serviceNames: [String] { configuration.services.map(\.name) }

    private func runner(_ name: String) -> ServiceRunner? { state.withLock { $0.runners[name] } }

    public func snapshot(of name: String) -> ServiceSnapshot? { runner(name)?.snapshot }

    public var snapshots: [ServiceSnapshot] {
        let runners = state.withLock { state in state.configuration.services.compactMap { state.runners[$0.name] } }
        return runners.map(\.snapshot)
    }

    /// Tells the observer the one-line summary when it changed.
    private func publishStatus() {
        let line = Self.statusLine(snapshots)
        let changed = lastStatus.withLock { last in
            defer { last = line }
            return last != line
        }
        if changed { observer.status(line) }
    }

    /// Starts the event loops and every service marked `autostart`; returns once each of those
    /// has been spawned (or failed to be).
    public func start() async {
        let toStart = state.withLock { state -> [ServiceRunner] in
            for (name, runner) in state.runners where state.loops[name] == nil {
                state.loops[name] = Task { await runner.run() }
            }
            return state.configuration.services.filter(\.autostart).compactMap { state.runners[$0.name] }
        }
        for runner in toStart where runner.snapshot.handledEvents == 0 {
            let sequence = runner.send(.start)
            _ = await runner.waitUntil { $0.handledEvents >= sequence }
        }
    }

    /// Sends an event (start, stop, restart) to one service. Returns false for an unknown name.
    @discardableResult
    public func send(_ event: ServiceEvent, to name: String) -> Bool {
        guard let runner = runner(name) else { return false }
        runner.send(event)
        return true
    }

    /// Sends `signal` to the main process of a service.
    @discardableResult
    public func signal(_ signal: Int32, to name: String) -> Bool {
        runner(name)?.signalMain(signal) ?? false
    }

    /// Returns once the service's snapshot satisfies `predicate`.
    public func waitUntil(_ name: String, _ predicate: @escaping @Sendable (ServiceSnapshot) -> Bool) async -> ServiceSnapshot? {
        await runner(name)?.waitUntil(predicate)
    }

    /// Returns once every service has ended by itself (exited or failed) or was never started.
    public func waitUntilAllEnded() async {
        for runner in state.withLock({ Array($0.runners.values) }) {
            _ = await runner.waitUntil { $0.state.isSettled }
        }
    }

    /// What a reload changed.
    public struct ReloadSummary: Sendable, Equatable, CustomStringConvertible {
        public var added: [String] = []
        public var removed: [String] = []
        public var changed: [String] = []
        /// Settings that only a restart of Steward applies.
        public var ignored: [String] = []

        public var description: String {
            let parts = [("added", added), ("removed", removed), ("restarted", changed)].filter { !$1.isEmpty }
                .map { "\($0): \($1.joined(separator: ", "))" }
            return parts.isEmpty ? "no service changed" : parts.joined(separator: "; ")
        }
    }

    /// Applies a new configuration without touching what did not change: new services start,
    /// removed ones stop, changed ones are stopped and started with their new settings. The metrics
    /// address and the cgroup root only change with a restart of Steward.
    @discardableResult
    public func reload(_ new: StewardConfiguration) async throws -> ReloadSummary {
        observer.reloading()
        defer { observer.ready(status: Self.statusLine(snapshots)) }
        let old = configuration
        var summary = ReloadSummary()
        if new.cgroupRoot != old.cgroupRoot { summary.ignored.append("cgroup.root") }
        if new.metricsListen != old.metricsListen { summary.ignored.append("metrics.listen") }
        if new.metricsLimits != old.metricsLimits { summary.ignored.append("metrics limits") }
        let oldServices = Dictionary(uniqueKeysWithValues: old.services.map { ($0.name, $0) })
        let newServices = Dictionary(uniqueKeysWithValues: new.services.map { ($0.name, $0) })
        summary.removed = oldServices.keys.filter { newServices[$0] == nil }.sorted()
        summary.added = newServices.keys.filter { oldServices[$0] == nil }.sorted()
        summary.changed = newServices.keys.filter { oldServices[$0] != nil && oldServices[$0] != newServices[$0] }.sorted()

        // Build the new runners first: a failure here leaves everything running as it was.
        var fresh: [String: ServiceRunner] = [:]
        for name in summary.added + summary.changed {
            fresh[name] = try Self.makeRunner(newServices[name]!, tree: tree, output: output, logger: logger, relay: statusChanged)
        }
        await retire(summary.removed + summary.changed)
        state.withLock { state in
            var configuration = new
            configuration.cgroupRoot = old.cgroupRoot
            configuration.metricsListen = old.metricsListen
            configuration.metricsLimits = old.metricsLimits
            state.configuration = configuration
            state.runners.merge(fresh) { $1 }
        }
        await start()
        return summary
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

    /// Stops every service in parallel (each within its stop timeout), removes their cgroups and
    /// what Steward created. `signal` replaces the services' stop signal (exec mode forwards the
    /// signal Steward received).
    public func shutdown(signal: Int32? = nil) async {
        guard !shutdownStarted.withLock({ started in defer { started = true }; return started }) else { return }
        observer.stopping()
        let (runners, started) = state.withLock { state in
            (Array(state.runners.values), state.runners.filter { state.loops[$0.key] != nil }.map(\.value))
        }
        // A runner whose loop never started (Steward stopped before `start`) has nothing to stop,
        // and nobody would answer its stop event.
        await withTaskGroup(of: Void.self) { group in
            for runner in started {
                group.addTask { await runner.stop(signal: signal) }
            }
        }
        for runner in runners { runner.finish() }
        for loop in state.withLock({ Array($0.loops.values) }) { await loop.value }
        tree.tearDown()
    }

    /// Runs until SIGTERM, SIGINT or SIGQUIT (then shuts down). SIGHUP reloads through `reload` when
    /// given (a file that does not load is logged and changes nothing); otherwise SIGHUP, like
    /// SIGUSR1, SIGUSR2 and SIGWINCH, is forwarded to every service's main process. Every other
    /// signal whose default action would end Steward is ignored (ALRM logged), so that nobody's
    /// stray `kill -ALRM` leaves the services unsupervised. With `untilSettled` it also returns once
    /// every service has settled by itself (`steward exec`).
    public func run(
        untilSettled: Bool = false,
        forwardStopSignal: Bool = false,
        reload loadConfiguration: (@Sendable () throws -> StewardConfiguration)? = nil
    ) async {
        // Trapping SIGQUIT also replaces the Swift runtime's backtracer, which would print a crash
        // report for it and go on. Children get default dispositions back (CStewardSpawn).
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint, .sigquit, .sighup, .sigusr1, .sigusr2, .sigwinch, .sigalrm)
        for ignored in [SIGPIPE, SIGVTALRM, SIGPROF, SIGIO, SIGXCPU, SIGXFSZ] { _ = Glibc.signal(ignored, SIG_IGN) }
        await start()
        observer.ready(status: Self.statusLine(snapshots))
        await withTaskGroup(of: Int32?.self) { group in
            if let interval = observer.watchdogPingInterval {
                group.addTask {
                    while !Task.isCancelled {
                        self.observer.watchdogPing()
                        try? await Task.sleep(for: interval)
                    }
                    return nil
                }
            }
            group.addTask {
                for await signal in signals {
                    switch signal {
                    case .sigterm, .sigint, .sigquit:
                        return signal.rawValue
                    case .sighup where loadConfiguration != nil:
                        await self.reload(using: loadConfiguration!)
                    case .sighup, .sigusr1, .sigusr2, .sigwinch:
                        for name in self.serviceNames { self.signal(signal.rawValue, to: name) }
                    default:
                        self.logger.notice("ignored signal \(signal)")
                    }
                }
                return nil
            }
            if untilSettled {
                group.addTask {
                    await self.waitUntilAllEnded()
                    return nil
                }
            }
            let stopSignal = await group.next() ?? nil
            group.cancelAll()
            if let stopSignal {
                logger.info("received signal \(stopSignal), stopping all services")
            }
            await shutdown(signal: forwardStopSignal ? stopSignal : nil)
        }
    }

    private func reload(using load: () throws -> StewardConfiguration) async {
        do {
            let summary = try await reload(load())
            logger.info("reloaded: \(summary)")
            if !summary.ignored.isEmpty {
                logger.warning("changed settings take effect only when Steward restarts: \(summary.ignored.joined(separator: ", "))")
            }
        } catch {
            logger.error("reload failed, keeping the running configuration: \(error)")
        }
    }
}

/// Lets the runners, created before the supervisor is whole, call back into it.
private final class Relay: Sendable {
    private let action = Mutex<(@Sendable () -> Void)?>(nil)

    func set(_ action: @escaping @Sendable () -> Void) { self.action.withLock { $0 = action } }
    func fire() { action.withLock { $0 }?() }
}
