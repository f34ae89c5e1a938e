import CgroupFS
import Logging
import StewardConfig
import StewardCore
import Synchronization
import UnixSignals

/// Runs a set of services, each in its own cgroup below Steward's, until shut down. The library
/// face of `steward run` and `steward exec`; tests drive it directly.
public final class Supervisor: Sendable {
    public let configuration: StewardConfiguration
    public let tree: CgroupTree
    private let runners: [String: ServiceRunner]
    private let loops: Mutex<[Task<Void, Never>]> = Mutex([])
    private let shutdownStarted = Mutex(false)
    private let logger: Logger
    private let observer: any LifecycleObserver
    private let lastStatus = Mutex("")

    /// Prepares the cgroup tree (nothing is started yet). On error nothing is left behind.
    public init(
        configuration: StewardConfiguration,
        layout: HostLayout? = nil,
        output: ServiceOutput = .lines(PrefixedOutputSink()),
        observer: any LifecycleObserver = SilentLifecycleObserver(),
        logger: Logger = Logger(label: "steward")
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.observer = observer
        let statusChanged = Relay()
        let tree = try CgroupTree(layout: layout ?? HostLayout.current(), root: configuration.cgroupRoot)
        do {
            var runners: [String: ServiceRunner] = [:]
            for service in configuration.services {
                runners[service.name] = try ServiceRunner(
                    configuration: service, cgroup: tree.service(named: service.name), output: output, logger: logger,
                    onChange: { statusChanged.fire() }
                )
            }
            self.runners = runners
        } catch {
            tree.tearDown()
            throw error
        }
        self.tree = tree
        statusChanged.set { [weak self] in self?.publishStatus() }
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

    /// Services' output read line by line into `sink`.
    public convenience init(configuration: StewardConfiguration, layout: HostLayout? = nil, sink: any OutputSink, logger: Logger = Logger(label: "steward")) throws {
        try self.init(configuration: configuration, layout: layout, output: .lines(sink), logger: logger)
    }

    public var serviceNames: [String] { configuration.services.map(\.name) }

    public func snapshot(of name: String) -> ServiceSnapshot? { runners[name]?.snapshot }

    public var snapshots: [ServiceSnapshot] { serviceNames.compactMap { runners[$0]?.snapshot } }

    /// Starts the event loops and every service marked `autostart`; returns once each of those
    /// has been spawned (or failed to be).
    public func start() async {
        loops.withLock { loops in
            guard loops.isEmpty else { return }
            loops = runners.values.map { runner in Task { await runner.run() } }
        }
        for service in configuration.services where service.autostart {
            guard let runner = runners[service.name] else { continue }
            let sequence = runner.send(.start)
            _ = await runner.waitUntil { $0.handledEvents >= sequence }
        }
    }

    /// Sends an event (start, stop, restart) to one service. Returns false for an unknown name.
    @discardableResult
    public func send(_ event: ServiceEvent, to name: String) -> Bool {
        guard let runner = runners[name] else { return false }
        runner.send(event)
        return true
    }

    /// Sends `signal` to the main process of a service.
    @discardableResult
    public func signal(_ signal: Int32, to name: String) -> Bool {
        runners[name]?.signalMain(signal) ?? false
    }

    /// Returns once the service's snapshot satisfies `predicate`.
    public func waitUntil(_ name: String, _ predicate: @escaping @Sendable (ServiceSnapshot) -> Bool) async -> ServiceSnapshot? {
        await runners[name]?.waitUntil(predicate)
    }

    /// Returns once every service has ended by itself (exited or failed) or was never started.
    public func waitUntilAllEnded() async {
        for runner in runners.values {
            _ = await runner.waitUntil { $0.state.isSettled }
        }
    }

    /// Stops every service in parallel (each within its stop timeout), removes their cgroups and
    /// what Steward created. `signal` replaces the services' stop signal (exec mode forwards the
    /// signal Steward received).
    public func shutdown(signal: Int32? = nil) async {
        guard !shutdownStarted.withLock({ started in defer { started = true }; return started }) else { return }
        observer.stopping()
        await withTaskGroup(of: Void.self) { group in
            for runner in runners.values {
                group.addTask { await runner.stop(signal: signal) }
            }
        }
        for runner in runners.values { runner.finish() }
        for loop in loops.withLock({ $0 }) { await loop.value }
        tree.tearDown()
    }

    /// Runs until SIGTERM or SIGINT (then shuts down), forwarding SIGHUP, SIGUSR1, SIGUSR2 and
    /// SIGWINCH to the services' main processes. With `untilSettled` it also returns once every
    /// service has settled by itself (`steward exec` with restart = never).
    public func run(untilSettled: Bool = false, forwardStopSignal: Bool = false) async {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint, .sighup, .sigusr1, .sigusr2, .sigwinch)
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
                    if signal == .sigterm || signal == .sigint { return signal.rawValue }
                    for name in self.serviceNames { self.signal(signal.rawValue, to: name) }
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
}

/// Lets the runners, created before the supervisor is whole, call back into it.
private final class Relay: Sendable {
    private let action = Mutex<(@Sendable () -> Void)?>(nil)

    func set(_ action: @escaping @Sendable () -> Void) { self.action.withLock { $0 = action } }
    func fire() { action.withLock { $0 }?() }
}
