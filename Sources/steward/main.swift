import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import StewardConfig
import StewardCore
import StewardEngine
import StewardMetrics
import StewardServer

@main
struct Steward: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "steward",
        abstract: "A cgroup-aware process supervisor: each service in its own cgroup, memory measured without page cache.",
        subcommands: [Run.self, Exec.self, Check.self, Inspect.self]
    )
}

struct LoggingOptions: ParsableArguments {
    @Option(help: "Steward's own log level (trace, debug, info, notice, warning, error, critical).")
    var logLevel: Logger.Level = .info

    func makeLogger() -> Logger {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "steward")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run every service of a config file until SIGTERM or SIGINT.")

    @Option(name: .shortAndLong, help: "The TOML config file.")
    var config: String

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let configuration = try loadConfiguration(config)
        let logger = logging.makeLogger()
        let supervisor = try Supervisor(configuration: configuration, logger: logger)
        await supervisor.run(servingMetricsAt: configuration.metricsListen, logger: logger)
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate a config file; exit 0 when it is valid.")

    @Option(name: .shortAndLong, help: "The TOML config file.")
    var config: String

    func run() throws {
        let configuration = try loadConfiguration(config)
        print("\(config): OK, \(configuration.services.count) service(s): \(configuration.services.map(\.name).joined(separator: ", "))")
    }
}

struct Exec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Supervise one command, without a config file.",
        discussion: """
        Signals Steward receives are forwarded to the service (SIGTERM and SIGINT stop it, then the whole \
        cgroup is killed). Steward exits with the service's exit status, or 128 + the signal that killed it.
        """
    )

    @Option(help: "The service's name (its cgroup directory).")
    var name: String

    @Option(help: "always, on-failure or never.")
    var restart: String = RestartPolicy.onFailure.rawValue

    @Option(help: "Time between the stop signal and SIGKILL to the whole cgroup (e.g. 10s).")
    var stopTimeout: String = "10s"

    @Option(help: "Signal that asks the service to stop (e.g. TERM, INT, QUIT).")
    var stopSignal: String = "TERM"

    @Option(help: "control-group (stop signal to every process) or process (main process only).")
    var killMode: String = KillMode.controlGroup.rawValue

    @Option(name: .customLong("env"), help: "NAME=VALUE added to the service's environment (repeatable).")
    var environment: [String] = []

    @Option(help: "Working directory of the service.")
    var workingDirectory: String?

    @Option(help: "Run the service as this user (name or uid).")
    var user: String?

    @Option(help: "Run the service with this group (name or gid).")
    var group: String?

    @Option(help: "Cgroup under which the service's cgroup is created (default: Steward's own cgroup).")
    var cgroupRoot: String?

    @Option(help: "Serve Prometheus metrics on this address (e.g. 127.0.0.1:9464); none by default.")
    var metrics: String?

    @OptionGroup var logging: LoggingOptions

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.")
    var command: [String]

    func run() async throws {
        let service = try makeService()
        let metricsAddress = try metrics.map { text in
            guard let address = ListenAddress.parse(text) else { throw ValidationError("--metrics: expected HOST:PORT, got \"\(text)\"") }
            return address
        }
        let configuration = StewardConfiguration(cgroupRoot: cgroupRoot, services: [service])
        let logger = logging.makeLogger()
        let supervisor = try Supervisor(configuration: configuration, logger: logger)
        await supervisor.run(servingMetricsAt: metricsAddress, untilSettled: true, forwardStopSignal: true, logger: logger)
        let snapshot = supervisor.snapshot(of: name)
        let status: Int32 = snapshot?.lastExit?.shellStatus ?? (snapshot.map { if case .failed = $0.state { 127 } else { 0 } } ?? 0)
        throw ExitCode(status)
    }

    func makeService() throws -> ServiceConfiguration {
        func parse<T>(_ value: String, _ flag: String, _ parser: (String) -> T?) throws -> T {
            guard let parsed = parser(value) else { throw ValidationError("--\(flag): invalid value \"\(value)\"") }
            return parsed
        }
        var environment: [String: String] = [:]
        for assignment in self.environment {
            guard let equals = assignment.firstIndex(of: "=") else { throw ValidationError("--env: expected NAME=VALUE, got \"\(assignment)\"") }
            environment[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
        }
        let service = ServiceConfiguration(
            name: name,
            command: command,
            restart: try parse(restart, "restart", RestartPolicy.init(rawValue:)),
            stopTimeout: try parse(stopTimeout, "stop-timeout", DurationText.parse),
            stopSignal: try parse(stopSignal, "stop-signal", SignalName.parse),
            killMode: try parse(killMode, "kill-mode", KillMode.init(rawValue:)),
            environment: environment,
            workingDirectory: workingDirectory,
            user: user,
            group: group
        )
        if let issue = service.validate().first {
            throw ValidationError("\(issue)")
        }
        return service
    }
}

struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a service's memory class by class, next to what systemctl, docker, podman and kubectl would show.",
        discussion: """
        Asks a running Steward (--url) for the service's metrics, or reads a cgroup directly (--cgroup; on \
        cgroup v1 give each hierarchy's directory: memory, pids, cpuacct and the v2 one on hybrid hosts).
        """
    )

    @Argument(help: "The service's name (with --cgroup: defaults to the directory's name).")
    var service: String?

    @Option(help: "A running Steward's metrics endpoint.")
    var url: String = "http://\(ListenAddress.defaultMetrics)"

    @Option(name: .customLong("cgroup"), help: "Read this cgroup directory instead of asking Steward (repeatable).")
    var cgroups: [String] = []

    func run() async throws {
        let now = Date().timeIntervalSince1970
        if !cgroups.isEmpty {
            print(try InspectReport.readingCgroup(directories: cgroups, service: service, now: now), terminator: "")
            return
        }
        guard let service else { throw ValidationError("name a service, or give --cgroup") }
        guard let endpoint = URL(string: url)?.appendingPathComponent("services").appendingPathComponent(service).appendingPathComponent("metrics") else {
            throw ValidationError("--url: not a URL: \(url)")
        }
        let data: Data, response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(from: endpoint)
        } catch {
            throw InspectFailure(description: "cannot reach Steward at \(url): \(error.localizedDescription) (--cgroup reads a cgroup without it)")
        }
        let body = String(decoding: data, as: UTF8.self)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw InspectFailure(description: "\(endpoint): " + (body.isEmpty ? "no answer" : body.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        print(InspectReport.render(service: service, values: try MetricValues(parsingText: body), now: now), terminator: "")
    }
}

/// Printed as "Error: …" without the usage text: the command line was fine.
struct InspectFailure: Error, CustomStringConvertible {
    var description: String
}

func loadConfiguration(_ path: String) throws -> StewardConfiguration {
    do {
        return try StewardConfiguration.load(contentsOf: path)
    } catch {
        throw ValidationError(error.description)
    }
}
