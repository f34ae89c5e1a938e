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

    /// With the metrics server beside the services when `metricsAddress` is given, for as long as
    /// they run. The services start only once the server listens: an address that cannot be bound
    /// throws `CannotListen` before anything runs. A server that fails later is logged, and the
    /// services are supervised all the same: losing metrics must not take the services down.
    func run(
        servingMetricsAt metricsAddress: ListenAddress?, limits: MetricsListenLimits = MetricsListenLimits(),
        untilSettled: Bool = false, forwardStopSignal: Bool = false,
        reload: (@Sendable () throws -> StewardConfiguration)? = nil
    ) async throws(CannotListen) {
        guard let metricsAddress else {
            await run(untilSettled: untilSettled, forwardStopSignal: forwardStopSignal, reload: reload)
            return
        }
        var openFiles = rlimit()
        let requested = limits
        let limits = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &openFiles) == 0 ? limits.fitting(openFileLimit: Int(clamping: openFiles.rlim_cur)) : limits
        if limits.maxConnections < requested.maxConnections {
            logger.notice("metrics: max_connections \(requested.maxConnections) lowered to \(limits.maxConnections), an eighth of the open-file limit \(openFiles.rlim_cur)")
        }
        let (listening, announce) = AsyncStream.makeStream(of: String?.self)
        let listened = Listened()
        let logger = logger
        let server = MetricsServer(
            collector: MetricsCollector(supervisor: supervisor, logger: logger), address: metricsAddress, limits: limits, logger: logger,
            onListening: { _ in
                listened.value.store(true, ordering: .relaxed)
                announce.yield(nil)
            },
            afterRendering: releaseFreeMemory
        )
        // The group gives the server a graceful shutdown (a cancelled Hummingbird logs an error).
        let serverGroup = ServiceGroup(configuration: ServiceGroupConfiguration(services: [server], logger: logger))
        let failure: CannotListen? = await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                do {
                    try await serverGroup.run()
                } catch {
                    announce.yield("\(error)")
                    if listened.value.load(ordering: .relaxed) { logger.error("metrics server on \(metricsAddress) stopped: \(error)") }
                }
                announce.finish()
            }
            var announcements = listening.makeAsyncIterator()
            if case let failed?? = await announcements.next() {
                return CannotListen(address: metricsAddress, reason: failed)
            }
            await run(untilSettled: untilSettled, forwardStopSignal: forwardStopSignal, reload: reload)
            await serverGroup.triggerGracefulShutdown()
            return nil
        }
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
    private func run(untilSettled: Bool, forwardStopSignal: Bool, reload loadConfiguration: (@Sendable () throws -> StewardConfiguration)?) async {
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
                    case .sighup where loadConfiguration != nil:
                        observer.reloading()
                        await Self.reload(supervisor, using: loadConfiguration!, logger: logger)
                        observer.ready(status: Supervisor.statusLine(supervisor.snapshots))
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

    private static func reload(_ supervisor: Supervisor, using load: () throws -> StewardConfiguration, logger: Logger) async {
        do {
            let plan = try await supervisor.reload(load())
            logger.info("reloaded: \(plan)")
            if !plan.needsStewardRestart.isEmpty {
                logger.warning("changed settings take effect only when Steward restarts: \(plan.needsStewardRestart.joined(separator: ", "))")
            }
        } catch {
            logger.error("reload failed, keeping the running configuration: \(error)")
        }
    }
}

/// The metrics address could not be served; nothing was started.
struct CannotListen: Error, CustomStringConvertible {
    var address: ListenAddress
    var reason: String
    var description: String { "cannot serve metrics on \(address): \(reason)" }
}

/// Whether the server got as far as listening: a failure after that is logged, one before it is
/// thrown.
private final class Listened: Sendable {
    let value = Atomic(false)
}
