import ArgumentParser
import CStewardSpawn
import FoundationEssentials
import Glibc
import Logging
import StewardConfig
import StewardCore
import StewardEngine
import StewardMetrics
import StewardServer
import StewardSystemd

@main
struct Steward: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "steward",
        abstract: "A cgroup-aware process supervisor: each service in its own cgroup, memory measured without page cache.",
        subcommands: [Run.self, Exec.self, Ctl.self, Check.self, Inspect.self]
    )
}

/// Where Steward's own logs and its services' output go, and who hears about its lifecycle.
struct LoggingOptions: ParsableArguments {
    enum Target: String, ExpressibleByArgument {
        /// The journal when running under systemd or where journald listens, else the console.
        case auto
        case journal
        case console
    }

    @Option(help: "Steward's own log level (trace, debug, info, notice, warning, error, critical).")
    var logLevel: Logger.Level = .info

    @Option(help: "auto (the journal under systemd), journal, or console (services' lines prefixed with their name).")
    var logTarget: Target = .auto

    var usesJournal: Bool { logTarget == .journal || (logTarget == .auto && Journal.isAvailable) }

    func makeLogger() -> Logger {
        let level = logLevel
        let journal = usesJournal
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = journal ? JournalLogHandler() : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "steward")
    }

    /// Journal streams per service run (SYSLOG_IDENTIFIER=<service>), read back from the journal
    /// for `steward ctl logs`; or `name | line` on the console, the recent lines kept for it.
    func serviceOutput(keeping control: ControlSettings) -> (ServiceOutput, any ServiceLogSource) {
        if usesJournal { return (.streams(Journal.stream), JournalLogs()) }
        let logs = ServiceLogs(passingTo: PrefixedOutputSink(), maximumLines: control.logLines, maximumBytes: Int(control.logBytes))
        return (.lines(logs), logs)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run every service of a config file until SIGTERM or SIGINT.")

    @Option(name: .shortAndLong, help: "The TOML config file.")
    var config: String

    @OptionGroup var logging: LoggingOptions

    /// The [control] socket, or the default one for this file; none (said in the log) for a user
    /// other than root without a runtime directory (a container's `--user`), where there is no
    /// default place for it.
    private func claimControlSocket(_ settings: ControlSettings, logger: Logger) throws -> ControlSocket? {
        let runtime = getenv("XDG_RUNTIME_DIR").map { String(cString: $0) }
        guard let path = settings.socket ?? ControlSettings.defaultSocketPath(forConfig: config, userID: getuid(), runtimeDirectory: runtime) else {
            logger.notice("no control socket: not root and no XDG_RUNTIME_DIR to put it in; set [control] socket for steward ctl")
            return nil
        }
        do {
            return try ControlSocket.claim(path: path, group: settings.group)
        } catch {
            throw CommandFailure(description: "\(config): control.socket: \(error)")
        }
    }

    func run() async throws {
        let configuration = try loadConfiguration(config)
        let logger = logging.makeLogger()
        raiseOpenFileLimit(logger: logger)
        limitMallocRetention()
        let control = try claimControlSocket(configuration.control, logger: logger)
        let observer = SystemdNotifier()
        let (output, logs) = logging.serviceOutput(keeping: configuration.control)
        let supervisor = try Supervisor(
            configuration: configuration, output: output, countersFile: control.map { ControlSettings.countersPath(forSocket: $0.path) }, logger: logger
        )
        let path = config
        do {
            try await Supervising(supervisor: supervisor, observer: observer, logger: logger).run(
                servingMetricsAt: configuration.metricsListen, limits: configuration.metricsLimits, control: control, logs: logs
            ) {
                try StewardConfiguration.load(contentsOf: path, checkingHost: { $0.hostProblems() })
            }
        } catch {
            throw CommandFailure(description: "\(config): " + error.naming(metrics: "metrics.listen", control: "control.socket"))
        }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate a config file; exit 0 when it is valid.")

    @Option(name: .shortAndLong, help: "The TOML config file.")
    var config: String

    @Flag(help: "Check the file alone, without looking up its users, groups and working directories on this machine (a config meant for another host).")
    var noHostChecks = false

    func run() throws {
        let configuration = try loadConfiguration(config, checkingHost: !noHostChecks)
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

    @OptionGroup(title: "Service settings (as in a config file)")
    var settings: ServiceSettingFlags

    @Option(help: "Cgroup under which the service's cgroup is created (default: Steward's own cgroup).")
    var cgroupRoot: String?

    @Option(help: "Serve Prometheus metrics on this address (e.g. 127.0.0.1:9464); none by default.")
    var metrics: String?

    @Option(help: "Serve the control socket (steward ctl --socket PATH) at this path; none by default.")
    var control: String?

    @OptionGroup var logging: LoggingOptions

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.")
    var command: [String]

    func run() async throws {
        let service: ServiceConfiguration
        do {
            service = try ServiceConfiguration(name: name, command: command, flags: settings.given, checkingHost: { $0.hostProblems() })
        } catch {
            throw ValidationError(error.description)
        }
        let metricsAddress = try metrics.map { text in
            guard let address = ListenAddress.parse(text) else { throw ValidationError("--metrics: expected HOST:PORT, got \"\(text)\"") }
            return address
        }
        let configuration = StewardConfiguration(cgroupRoot: cgroupRoot, services: [service])
        let controlSocket: ControlSocket?
        do {
            controlSocket = try control.map { try ControlSocket.claim(path: $0, group: nil) }
        } catch {
            throw CommandFailure(description: "--control: \(error)")
        }
        let logger = logging.makeLogger()
        raiseOpenFileLimit(logger: logger)
        limitMallocRetention()
        let observer = SystemdNotifier()
        let (output, logs) = logging.serviceOutput(keeping: configuration.control)
        let supervisor = try Supervisor(
            configuration: configuration, output: output, countersFile: controlSocket.map { ControlSettings.countersPath(forSocket: $0.path) }, logger: logger
        )
        do {
            try await Supervising(supervisor: supervisor, observer: observer, logger: logger).run(
                servingMetricsAt: metricsAddress, control: controlSocket, logs: logs, untilSettled: true, forwardStopSignal: true
            )
        } catch {
            throw CommandFailure(description: error.naming(metrics: "--metrics", control: "--control"))
        }
        let snapshot = supervisor.snapshot(of: name)
        let status: Int32 = snapshot?.lastExit?.shellStatus ?? (snapshot.map { if case .failed = $0.state { 127 } else { 0 } } ?? 0)
        throw ExitCode(status)
    }
}

struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a service's memory class by class, next to what systemctl, docker, podman and kubectl would show.",
        discussion: """
        Asks a running Steward through its control socket (found as steward ctl finds it: --socket, \
        --config, or the default), or reads a cgroup directly (--cgroup; on cgroup v1 give each \
        hierarchy's directory: memory, pids, cpuacct and the v2 one on hybrid hosts).
        """
    )

    @Argument(help: "The service's name (with --cgroup: defaults to the directory's name).")
    var service: String?

    @OptionGroup var control: ControlOptions

    @Option(name: .customLong("cgroup"), help: "Read this cgroup directory instead of asking Steward (repeatable).")
    var cgroups: [String] = []

    func run() async throws {
        let now = Date().timeIntervalSince1970
        if !cgroups.isEmpty {
            print(try InspectReport.readingCgroup(directories: cgroups, service: service, now: now), terminator: "")
            return
        }
        guard let service else { throw ValidationError("name a service, or give --cgroup") }
        try await reportingFailures {
            let answer: ControlClient.Answer
            do {
                answer = try await control.client().get("/v1/services/\(service)/metrics")
            } catch let failure as ControlClient.Failure {
                throw CtlFailure(CtlFailure(failure).kind, "\(failure) (--cgroup reads a cgroup without it)")
            }
            guard answer.status == 200 else { throw CtlFailure(answer: answer) }
            let text = String(decoding: answer.body, as: UTF8.self)
            print(InspectReport.render(service: service, values: try MetricValues(parsingText: text), now: now), terminator: "")
        }
    }
}

/// Printed as "Error: …" without the usage text: the command line was fine, the file or the
/// running Steward was not.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
}

/// Steward's own open-file soft limit goes up to the hard limit, its services get the original one
/// back (OpenFileLimit): done by every command that supervises, before anything is opened.
func raiseOpenFileLimit(logger: Logger) {
    if let (before, after) = OpenFileLimit.raiseToHard(), after > before {
        logger.debug("raised the open-file soft limit from \(before) to \(after); services get \(before)")
    }
}

/// glibc's malloc keeps freed memory for reuse: in one arena per thread that ever allocated (up to
/// 8 per core), and, once a large block was freed, by raising its mmap threshold so later large blocks
/// come from the heap and stay. A scrape of 500 services renders ~900 KiB of text; with the defaults
/// Steward's anonymous memory grew from 14 to 22 MiB over 600 scrapes, with two arenas and a fixed
/// 128 KiB threshold (large blocks mapped, and unmapped when freed) to 14.6 MiB (BENCHMARKS.md).
func limitMallocRetention() {
    steward_limit_malloc_retention(2, 128 * 1024)
}

/// Even so, the heap keeps the pages a scrape freed in the middle of its arenas: at 500 services
/// RssAnon after 600 scrapes was 15.9 MiB, 13.2 once they were released (BENCHMARKS.md). Called
/// after each full scrape, when its families and text are freed.
@Sendable func releaseFreeMemory() {
    steward_release_free_memory()
}

func loadConfiguration(_ path: String, checkingHost: Bool = true) throws -> StewardConfiguration {
    do {
        return try StewardConfiguration.load(contentsOf: path, checkingHost: { checkingHost ? $0.hostProblems() : [] })
    } catch {
        throw CommandFailure(description: error.description)
    }
}
