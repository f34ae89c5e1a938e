import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import StewardConfig
import StewardEngine
import StewardMetrics

/// The HTTP edge: `GET /metrics` (every service, Steward's own process, scrape health),
/// `GET /services/<name>/metrics` (one service; 404 for a name Steward does not supervise),
/// `GET /healthz`, the status page `GET /` and its JSON `GET /status` (and HEAD for each). Metrics are in Prometheus text 0.0.4, or OpenMetrics 1.0.0
/// when the Accept header prefers it. What one client may take is bounded by `limits`
/// (ListenerChannel). A swift-service-lifecycle `Service`: it serves until graceful shutdown (or
/// cancellation).
public struct MetricsServer: Service {
    public let collector: MetricsCollector
    public let address: ListenAddress
    public let limits: MetricsListenLimits
    private let logger: Logger
    private let onListening: @Sendable (Int) async -> Void
    private let afterRendering: @Sendable () -> Void

    /// `onListening` gets the bound port: the one the kernel picked when `address.port` is 0.
    /// `afterRendering` runs once a scrape's families and text are freed (the process's memory
    /// policy: the CLI returns the freed memory to the kernel).
    public init(
        collector: MetricsCollector, address: ListenAddress, limits: MetricsListenLimits = MetricsListenLimits(), logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }, afterRendering: @escaping @Sendable () -> Void = {}
    ) {
        self.collector = collector
        self.address = address
        self.limits = limits
        self.logger = logger
        self.onListening = onListening
        self.afterRendering = afterRendering
    }

    /// Throws when it cannot listen.
    public func run() async throws {
        let (collector, address, limits, onListening, afterRendering) = (collector, address, limits, onListening, afterRendering)
        // HEAD answers what GET would, without the body (curl -I, load balancer checks).
        let router = Router(options: .autoGenerateHeadEndpoints)
        router.get("metrics") { request, _ in
            let response = Self.exposition(collector.collect(), for: request)
            afterRendering()
            return response
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
        router.get("/") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .contentSecurityPolicy: StatusPage.contentSecurityPolicy],
                body: ResponseBody(byteBuffer: ByteBuffer(string: StatusPage.html))
            )
        }
        router.get("status") { _, _ in
            try json(collector.status())
        }
        let application = Application(
            router: router,
            server: HTTPServerBuilder { responder in ListenerChannel(responder: responder, limits: limits) },
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
