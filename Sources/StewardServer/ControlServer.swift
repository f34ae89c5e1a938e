import FoundationEssentials
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import StewardConfig
import StewardCore
import StewardEngine
import StewardMetrics

/// The control socket: HTTP/1.1 with JSON bodies on a Unix socket, as docker and podman serve
/// theirs (docs/control-api.md). The only place that changes services from outside; the metrics
/// listener stays read-only. Runs until graceful shutdown, like `MetricsServer`.
public struct ControlServer: Service {
    public let supervisor: Supervisor
    public let socket: ControlSocket
    /// What one client may take (the metrics listener's defaults unless fitted to the open-file limit).
    public let limits: MetricsListenLimits
    /// Where the services' output can be read back.
    public let logs: any ServiceLogSource
    private let reload: @Sendable () async throws -> ReloadPlan
    private let logger: Logger
    private let onListening: @Sendable () async -> Void

    /// `reload` rereads the config file and applies it (what SIGHUP does); its error is reported
    /// to the client as the reason nothing changed.
    public init(
        supervisor: Supervisor, socket: ControlSocket, limits: MetricsListenLimits = MetricsListenLimits(), logs: any ServiceLogSource, logger: Logger,
        reload: @escaping @Sendable () async throws -> ReloadPlan,
        onListening: @escaping @Sendable () async -> Void = {}
    ) {
        self.supervisor = supervisor
        self.socket = socket
        self.limits = limits
        self.logs = logs
        self.reload = reload
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let (supervisor, reload, socket, limits, logs, onListening, logger) = (supervisor, reload, socket, limits, logs, onListening, logger)
        let router = Router()
        router.get("v1/services") { _, _ in
            try json(StatusReport(of: supervisor))
        }
        router.get("v1/services/:name") { _, context in
            let name = try context.parameters.require("name")
            guard let service = supervisor.service(named: name) else { return try Self.unknown(name) }
            return try json(ServiceStatus(reading: service))
        }
        // One service's samples in the Prometheus text format, as `/services/NAME/metrics` on the
        // metrics listener has them (`steward inspect`).
        let collector = MetricsCollector(supervisor: supervisor, logger: logger)
        router.get("v1/services/:name/metrics") { _, context in
            let name = try context.parameters.require("name")
            guard let families = collector.collect(service: name) else { return try Self.unknown(name) }
            return Response(
                status: .ok, headers: [.contentType: ExpositionFormat.text.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: Exposition.render(families, as: .text)))
            )
        }
        router.get("v1/services/:name/logs") { request, context in
            let name = try context.parameters.require("name")
            guard supervisor.service(named: name) != nil else { return try Self.unknown(name) }
            var lines = 100
            if let text = request.uri.queryParameters.get("lines") {
                guard let count = Int(text), count >= 0 else { return try badRequest("lines must be a count, got \"\(text)\"") }
                // The ring holds less anyway; the journal could hold a service's whole history.
                lines = min(count, Self.maximumLines)
            }
            let follow = request.uri.queryParameters.get("follow").map { $0 != "0" && $0 != "false" } ?? false
            let headers: HTTPFields = [.contentType: "application/x-ndjson"]
            do {
                guard follow else {
                    return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: try ndjson(logs.newest(lines, of: name))))
                }
                let (backlog, stream) = try logs.follow(name, newest: lines)
                return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                    try await writer.write(ndjson(backlog))
                    for await line in stream { try await writer.write(ndjson([line])) }
                    try await writer.finish(nil)
                })
            } catch {
                return try json(ControlAPI.ErrorReply(error: "cannot read \(name)'s output: \(error)"), status: .internalServerError)
            }
        }
        router.post("v1/services/:name/:command") { request, context in
            let name = try context.parameters.require("name")
            let verb = try context.parameters.require("command")
            let wait = request.uri.queryParameters.get("wait").map { $0 != "0" && $0 != "false" } ?? true
            var timeout = Duration.seconds(120)
            if let text = request.uri.queryParameters.get("timeout") {
                guard let seconds = Double(text), seconds >= 0, seconds <= 86_400 else {
                    return try badRequest("timeout must be seconds from 0 to 86400, got \"\(text)\"")
                }
                timeout = .milliseconds(Int64(seconds * 1000))
            }
            let command: ServiceCommand
            switch verb {
            case "start": command = .start
            case "stop": command = .stop
            case "restart": command = .restart
            case "signal":
                let body: ControlAPI.SignalRequest
                do {
                    body = try await request.decode(as: ControlAPI.SignalRequest.self, context: context)
                } catch {
                    return try badRequest("expected {\"signal\": \"HUP\", \"all_processes\": false}")
                }
                guard let number = SignalName.parse(body.signal) else { return try badRequest("unknown signal \"\(body.signal)\"") }
                command = .signal(number, to: body.allProcesses == true ? .wholeCgroup : .mainProcess)
            default:
                return try json(ControlAPI.ErrorReply(error: "unknown command \"\(verb)\" (start, stop, restart, signal)"), status: .notFound)
            }
            let outcome = await supervisor.perform(command, on: name)
            switch outcome {
            case .unknownService:
                return try Self.unknown(name)
            case .refused(let lifecycle):
                return try json(ControlAPI.ErrorReply(error: "Steward takes no commands while \(lifecycle.rawValue)"), status: .conflict)
            case .accepted, .ignored:
                let reply = await CommandWait(supervisor: supervisor, name: name, command: command, verb: verb)
                    .reply(to: outcome, waiting: wait ? timeout : nil)
                logger.info("control: \(verb) \(name): \(reply.outcome.rawValue), \(reply.message)")
                return try json(reply)
            }
        }
        router.post("v1/reload") { _, _ in
            do {
                let plan = try await reload()
                return try json(ControlAPI.ReloadReply(
                    started: plan.added, stopped: plan.removed, restarted: plan.changed, unchanged: plan.unchanged,
                    needsStewardRestart: plan.needsStewardRestart
                ))
            } catch let refused as Supervisor.ReloadRefused {
                return try json(ControlAPI.ErrorReply(error: "\(refused); nothing changed"), status: .conflict)
            } catch {
                return try json(ControlAPI.ErrorReply(error: "\(error); nothing changed"), status: .unprocessableContent)
            }
        }
        let application = Application(
            router: router,
            server: HTTPServerBuilder { responder in ListenerChannel(responder: responder, limits: limits) },
            configuration: ApplicationConfiguration(
                address: .unixDomainSocket(path: socket.path),
                // Past the limit, connections wait in the kernel's accept queue, not in Steward.
                backlog: limits.maxConnections,
                availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections, logger: logger)
            ),
            onServerRunning: { _ in
                do {
                    try socket.restrictAccess()
                } catch {
                    logger.error("control socket: \(error)")
                }
                await onListening()
            },
            logger: logger
        )
        defer { socket.remove() }
        // Follows never end by themselves: they end at shutdown, so the server can drain.
        try await withGracefulShutdownHandler {
            try await application.run()
        } onGracefulShutdown: {
            logs.close()
        }
    }

    /// The most lines one logs request gets.
    static let maximumLines = 100_000

    private static func unknown(_ name: String) throws -> Response {
        try json(ControlAPI.ErrorReply(error: "unknown service \"\(name)\""), status: .notFound)
    }
}

/// Waits, after a command, until the service settled (no longer starting or stopping), and says
/// whether it got where the command asked.
private struct CommandWait {
    let supervisor: Supervisor
    let name: String
    let command: ServiceCommand
    let verb: String

    func reply(to outcome: CommandOutcome, waiting timeout: Duration?) async -> ControlAPI.CommandReply {
        let phase = supervisor.snapshot(of: name)?.state.phase.rawValue ?? "gone"
        if case .ignored(let reason) = outcome {
            // Already where it was asked to go ("already running", "not running" for a stop), or on
            // its way there ("already starting"): the wait below tells which.
            if case .signal = command { return make(.failed, reason.rawValue) }
            if timeout == nil { return make(.done, reason.rawValue) }
        }
        if case .signal = command { return make(.done, "sent") }
        guard let timeout else { return make(.accepted, phase) }
        enum Waited { case settled(ServiceSnapshot), gone, timedOut }
        let waited = await withTaskGroup(of: Waited.self) { group in
            group.addTask { [supervisor, name] in
                // Nil: a reload removed the service meanwhile (or the wait was cancelled).
                await supervisor.waitUntil(name) { ![.starting, .stopping].contains($0.state.phase) }.map(Waited.settled) ?? .gone
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return .timedOut
            }
            let first = await group.next() ?? .timedOut
            group.cancelAll()
            return first
        }
        let settled: ServiceSnapshot
        switch waited {
        case .settled(let snapshot): settled = snapshot
        case .gone: return make(.failed, "removed by a reload")
        case .timedOut: return make(.timeout, "still \(supervisor.snapshot(of: name)?.state.phase.rawValue ?? phase) after \(timeout)")
        }
        switch (command, settled.state) {
        case (.stop, .running), (.stop, .backoff):
            return make(.failed, settled.state.phase.rawValue)
        case (.stop, _):
            return make(.done, "stopped")
        case (_, .running(let pid, _)):
            return make(.done, "running (pid \(pid))")
        case (_, .exited(let status)) where status.isSuccess:
            return make(.done, "ran and \(status)")
        default:
            let detail = supervisor.service(named: name).flatMap { ServiceStatus($0, memory: nil, now: .now).detail }
            return make(.failed, [settled.state.phase.rawValue, detail].compactMap { $0 }.joined(separator: ": "))
        }
    }

    private func make(_ outcome: ControlAPI.CommandReply.Outcome, _ message: String) -> ControlAPI.CommandReply {
        ControlAPI.CommandReply(
            service: name, command: verb, outcome: outcome, message: message,
            status: supervisor.service(named: name).map(ServiceStatus.init(reading:))
        )
    }
}

private func badRequest(_ message: String) throws -> Response {
    try json(ControlAPI.ErrorReply(error: message), status: .badRequest)
}

/// One JSON object per line.
private func ndjson(_ lines: [LogLine]) throws -> ByteBuffer {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var buffer = ByteBuffer()
    for line in lines {
        let entry = ControlAPI.LogEntry(time: line.timeSeconds, stream: line.stream.rawValue, line: String(decoding: line.text, as: UTF8.self))
        buffer.writeBytes(try encoder.encode(entry))
        buffer.writeInteger(UInt8(ascii: "\n"))
    }
    return buffer
}
