import Glibc
import Logging
import ServiceLifecycle
import StewardConfig
import StewardEngine
import StewardMetrics
import StewardServer
import Synchronization
import UnixSignals

/// The wiring of `run` and `exec` around a `Supervisor`: Unix signals, the systemd observer's
/// watchdog, and the metrics server. The supervisor itself knows none of them.
struct Supervising {
    let supervisor: Supervisor
    let observer: any LifecycleObserver
    let logger: Logger

    /// With the metrics server (when `metricsAddress` is given) and the control server (when
    /// `control` is; serving `logs`) beside the services, for as long as they run. The services start only once
    /// both listen: an address or socket that cannot be bound throws `CannotListen` before anything
    /// runs. A server that fails later is logged, and the services are supervised all the same:
    /// losing metrics or control must not take the services down.
    func run(
        servingMetricsAt metricsAddress: ListenAddress?, limits: MetricsListenLimits = MetricsListenLimits(),
        control: ControlSocket? = nil, logs: any ServiceLogSource, untilSettled: Bool = false, forwardStopSignal: Bool = false,
        reload: (@Sendable () throws -> StewardConfiguration)? = nil
    ) async throws(CannotListen) {
        let (supervisor, logger) = (supervisor, logger)
        let reloading = reload.map { load in { @Sendable () async throws -> ReloadPlan in try await self.reload(using: load) } }
        var servers: [(listener: CannotListen.Listener, make: (@escaping @Sendable () async -> Void) -> any Service)] = []
        // Clients of each listener get at most an eighth of the open-file limit, so that they run
        // out of connections long before supervision runs out of descriptors.
        var openFiles = rlimit()
        let openFileLimit = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &openFiles) == 0 ? Int(clamping: openFiles.rlim_cur) : nil
        let fitted = openFileLimit.map(limits.fitting) ?? limits
        let controlLimits = openFileLimit.map(MetricsListenLimits().fitting) ?? MetricsListenLimits()
        if let metricsAddress {
            if fitted.maxConnections < limits.maxConnections {
                logger.notice("metrics: max_connections \(limits.maxConnections) lowered to \(fitted.maxConnections), an eighth of the open-file limit \(openFileLimit ?? 0)")
            }
            servers.append((.metrics(metricsAddress), { listening in
                MetricsServer(
                    collector: MetricsCollector(supervisor: supervisor, logger: logger), address: metricsAddress, limits: fitted, logger: logger,
                    onListening: { _ in await listening() }, afterRendering: releaseFreeMemory
                )
            }))
        }
        if let control {
            servers.append((.control(control.path), { listening in
                ControlServer(
                    supervisor: supervisor, socket: control, limits: controlLimits, logs: logs, logger: logger,
                    reload: reloading ?? { throw CommandRefused(description: "this Steward has no config file to reload") },
                    onListening: listening
                )
            }))
        }
        guard !servers.isEmpty else {
            await run(untilSettled: untilSettled, forwardStopSignal: forwardStopSignal, reload: reloading)
            return
        }
        // Each server says once that it listens (nil) or why it could not (its error).
        let (announcements, announce) = AsyncStream.makeStream(of: (Int, String?).self)
        // The control socket is created with the mode its bind gets from the umask: owner only,
        // from the first moment. The umask is restored before any service starts (they inherit it).
        let umaskBefore = control.map { _ in umask(ControlSocket.bindingUmask) }
        let listened = Listened()
        let failure: CannotListen? = await withTaskGroup(of: Void.self) { tasks in
            var groups: [ServiceGroup] = []
            for (index, server) in servers.enumerated() {
                let service = server.make {
                    listened.mark(index)
                    announce.yield((index, nil))
                }
                // The group gives the server a graceful shutdown (a cancelled Hummingbird logs an error).
                let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [service], logger: logger))
                groups.append(group)
                let listener = server.listener
                tasks.addTask {
                    do {
                        try await group.run()
                    } catch {
                        announce.yield((index, "\(error)"))
                        if listened.contains(index) { logger.error("\(listener) stopped: \(error)") }
                    }
                }
            }
            var pending = Set(servers.indices)
            for await (index, error) in announcements where pending.contains(index) {
                if let error {
                    if let umaskBefore { umask(umaskBefore) }
                    for group in groups { await group.triggerGracefulShutdown() }
                    return CannotListen(listener: servers[index].listener, reason: error)
                }
                pending.remove(index)
                if pending.isEmpty { break }
            }
            if let umaskBefore { umask(umaskBefore) }
            await run(untilSettled: untilSettled, forwardStopSignal: forwardStopSignal, reload: reloading)
            for group in groups { await group.triggerGracefulShutdown() }
            return nil
        }
        announce.finish()
        if let failure {
            await supervisor.shutdown()  // nothing runs yet: this removes the cgroups Steward made for itself
            throw failure
        }
    }

    /// Runs until SIGTERM, SIGINT or SIGQUIT (then shuts down). SIGHUP reloads through `reload` when
    /// given (a file that does not load is logged and changes nothing); otherwise SIGHUP, like
    /// SIGUSR1, SIGUSR2 and SIGWINCH, is forwarded to every service's main process. Every other
    /// signal whose default action would end Steward is ignored (ALRM logged), so that nobody's
    /// stray `kill -ALRM` leaves the services unsupervised. With `untilSettled` it also returns once
    /// every service has settled by itself (`steward exec`).
    private func run(untilSettled: Bool, forwardStopSignal: Bool, reload: (@Sendable () async throws -> ReloadPlan)?) async {
        // Trapping SIGQUIT also replaces the Swift runtime's backtracer, which would print a crash
        // report for it and go on. Children get default dispositions back (CStewardSpawn).
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint, .sigquit, .sighup, .sigusr1, .sigusr2, .sigwinch, .sigalrm)
        for ignored in [SIGPIPE, SIGVTALRM, SIGPROF, SIGIO, SIGXCPU, SIGXFSZ] { _ = Glibc.signal(ignored, SIG_IGN) }
        let (supervisor, observer, logger) = (supervisor, observer, logger)
        await supervisor.start()
        observer.ready(status: Supervisor.statusLine(supervisor.snapshots))
        await withTaskGroup(of: Int32?.self) { group in
            // The one-line summary, whenever it changes ("3 running, 1 backing off").
            group.addTask {
                var (seen, last) = (0, "")
                while let count = try? await supervisor.changes.wait(until: { [seen] in $0 != seen }) {
                    seen = count
                    let line = Supervisor.statusLine(supervisor.snapshots)
                    if line != last { observer.status(line) }
                    last = line
                }
                return nil
            }
            if let interval = observer.watchdogPingInterval {
                group.addTask {
                    while !Task.isCancelled {
                        observer.watchdogPing()
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
                    case .sighup where reload != nil:
                        do {
                            _ = try await reload!()
                        } catch {
                            logger.error("reload failed, keeping the running configuration: \(error)")
                        }
                    case .sighup, .sigusr1, .sigusr2, .sigwinch:
                        // Side by side: a service busy stopping must not hold up the others' signal.
                        await withTaskGroup(of: Void.self) { group in
                            for name in supervisor.serviceNames {
                                group.addTask { await supervisor.signal(signal.rawValue, to: name) }
                            }
                        }
                    default:
                        logger.notice("ignored signal \(signal)")
                    }
                }
                return nil
            }
            if untilSettled {
                group.addTask {
                    await supervisor.waitUntilAllEnded()
                    return nil
                }
            }
            let stopSignal = await group.next() ?? nil
            group.cancelAll()
            if let stopSignal {
                logger.info("received signal \(stopSignal), stopping all services")
            }
            observer.stopping()
            await supervisor.shutdown(signal: forwardStopSignal ? stopSignal : nil)
        }
    }

    /// Rereads the config file and applies it (SIGHUP, `steward ctl reload`), telling systemd
    /// around it. A file that does not load changes nothing and is thrown.
    private func reload(using load: () throws -> StewardConfiguration) async throws -> ReloadPlan {
        observer.reloading()
        defer { observer.ready(status: Supervisor.statusLine(supervisor.snapshots)) }
        let plan = try await supervisor.reload(load())
        logger.info("reloaded: \(plan)")
        if !plan.needsStewardRestart.isEmpty {
            logger.warning("changed settings take effect only when Steward restarts: \(plan.needsStewardRestart.joined(separator: ", "))")
        }
        return plan
    }
}

/// The metrics address or the control socket could not be served; nothing was started.
struct CannotListen: Error, CustomStringConvertible {
    enum Listener: CustomStringConvertible {
        case metrics(ListenAddress)
        case control(String)

        var description: String {
            switch self {
            case .metrics(let address): "metrics on \(address)"
            case .control(let path): "the control socket \(path)"
            }
        }
    }

    var listener: Listener
    var reason: String
    var description: String { "cannot serve \(listener): \(reason)" }

    /// "metrics.listen: cannot serve ..." for a config file, "--metrics: ..." for `exec`'s flags.
    func naming(metrics: String, control: String) -> String {
        switch listener {
        case .metrics: "\(metrics): \(self)"
        case .control: "\(control): \(self)"
        }
    }
}

/// A control request this Steward cannot carry out.
struct CommandRefused: Error, CustomStringConvertible {
    var description: String
}

/// Whether each server got as far as listening: a failure after that is logged, one before it is
/// thrown.
private final class Listened: Sendable {
    private let servers = Mutex(Set<Int>())

    func mark(_ server: Int) {
        servers.withLock { _ = $0.insert(server) }
    }

    func contains(_ server: Int) -> Bool {
        servers.withLock { $0.contains(server) }
    }
}
