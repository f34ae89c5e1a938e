import Glibc
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import StewardConfig
import StewardEngine
import StewardMetrics
import Synchronization

/// The HTTP edge: `GET /metrics` (every service, Steward's own process, scrape health),
/// `GET /services/<name>/metrics` (one service; 404 for a name Steward does not supervise) and
/// `GET /healthz` (and HEAD for each). Metrics are in Prometheus text 0.0.4, or OpenMetrics 1.0.0
/// when the Accept header prefers it. What one client may take is bounded by `limits`
/// (MetricsChannel). A swift-service-lifecycle `Service`: it serves until graceful shutdown (or
/// cancellation).
public struct MetricsServer: Service {
    public let collector: MetricsCollector
    public let address: ListenAddress
    public let limits: MetricsListenLimits
    private let logger: Logger
    private let onListening: @Sendable (Int) async -> Void

    /// `onListening` gets the bound port: the one the kernel picked when `address.port` is 0.
    public init(
        collector: MetricsCollector, address: ListenAddress, limits: MetricsListenLimits = MetricsListenLimits(), logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.collector = collector
        self.address = address
        self.limits = limits
        self.logger = logger
        self.onListening = onListening
    }

    /// Throws when it cannot listen.
    public func run() async throws {
        let (collector, address, limits, onListening) = (collector, address, limits, onListening)
        // HEAD answers what GET would, without the body (curl -I, load balancer checks).
        let router = Router(options: .autoGenerateHeadEndpoints)
        router.get("metrics") { request, _ in
            Self.exposition(collector.collect(), for: request)
        }
        router.get("services/:name/metrics") { request, context in
            let name = try context.parameters.require("name")
            guard let families = collector.collect(service: name) else {
                return Self.plainText("unknown service \"\(name)\"\n", status: .notFound)
            }
            return Self.exposition(families, for: request)
        }
        router.get("healthz") { _, _ in
            Self.plainText("ok\n", status: .ok)
        }
        let application = Application(
            router: router,
            server: HTTPServerBuilder { responder in MetricsChannel(responder: responder, limits: limits) },
            configuration: ApplicationConfiguration(
                address: .hostname(address.host, port: address.port),
                // Past the limit, connections wait in the kernel's accept queue, not in Steward.
                backlog: limits.maxConnections,
                availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections, logger: logger)
            ),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? address.port) },
            logger: logger
        )
        try await application.run()
    }

    private static func exposition(_ families: [MetricFamily], for request: Request) -> Response {
        let format = ExpositionFormat.negotiate(accept: request.headers[.accept])
        return Response(
            status: .ok,
            headers: [.contentType: format.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: Exposition.render(families, as: format)))
        )
    }

    private static func plainText(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }
}

/// The metrics address could not be served; nothing was started.
public struct CannotListen: Error, CustomStringConvertible {
    public var address: ListenAddress
    public var reason: String
    public var description: String { "cannot serve metrics on \(address): \(reason)" }
}

extension Supervisor {
    /// `run(untilSettled:forwardStopSignal:)` with the metrics server beside it, when `metricsAddress`
    /// is given, for as long as the services run. The services start only once the server listens:
    /// an address that cannot be bound throws `CannotListen` before anything runs. A server that
    /// fails later is logged, and the services are supervised all the same: losing metrics must not
    /// take the services down.
    public func run(
        servingMetricsAt metricsAddress: ListenAddress?, limits: MetricsListenLimits = MetricsListenLimits(),
        untilSettled: Bool = false, forwardStopSignal: Bool = false, logger: Logger,
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
        let server = MetricsServer(
            collector: MetricsCollector(supervisor: self, logger: logger), address: metricsAddress, limits: limits, logger: logger,
            onListening: { _ in
                listened.value.store(true, ordering: .relaxed)
                announce.yield(nil)
            }
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
            await shutdown()  // nothing runs yet: this removes the cgroups Steward made for itself
            throw failure
        }
    }
}

/// Whether the server got as far as listening: a failure after that is logged, one before it is
/// thrown.
private final class Listened: Sendable {
    let value = Atomic(false)
}
