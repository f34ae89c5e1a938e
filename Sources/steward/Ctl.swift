import ArgumentParser
import FoundationEssentials
import Glibc
import StewardConfig
import StewardMetrics
import StewardServer
import Synchronization

struct Ctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Control a running Steward through its control socket.",
        discussion: """
        The socket is found from --socket, else from --config (its [control] socket, or the default \
        for that file: /run/steward/NAME.sock for root, $XDG_RUNTIME_DIR/steward/NAME.sock otherwise), \
        else /run/steward/steward.sock. Exit status: 0 done, 1 a service did not get there (or the \
        reload was refused), 3 Steward not running, 4 unknown service, 5 permission denied, 6 timeout.
        """,
        subcommands: [Status.self, Start.self, Stop.self, Restart.self, SignalService.self, Reload.self, Logs.self]
    )

    @OptionGroup var control: ControlOptions
}

/// Where the Steward to talk to listens, and how long to wait for it.
struct ControlOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The config file the Steward runs (finds its socket).")
    var config: String?

    @Option(help: "The control socket (overrides --config).")
    var socket: String?

    @Option(help: "Seconds to wait for an answer, a service's start or stop included.")
    var timeout: Double = 120

    func validate() throws {
        guard timeout > 0, timeout <= 86_400 else { throw ValidationError("--timeout: seconds from 0 to 86400") }
    }

    /// The client waits 10 s longer than it asks Steward to wait for a service, so that Steward's
    /// own "still stopping after …" answer arrives rather than the client giving up first.
    func client() throws -> ControlClient {
        ControlClient(socketPath: try socketPath(), timeout: .milliseconds(Int64(timeout * 1000)) + .seconds(10))
    }

    private func socketPath() throws -> String {
        if let socket { return socket }
        if let config, let named = try loadConfiguration(config, checkingHost: false).control.socket { return named }
        let runtime = getenv("XDG_RUNTIME_DIR").map { String(cString: $0) }
        guard let path = ControlSettings.defaultSocketPath(forConfig: config ?? "steward.toml", userID: getuid(), runtimeDirectory: runtime) else {
            throw CtlFailure(.failed, "no socket to use: pass --socket, or set XDG_RUNTIME_DIR")
        }
        return path
    }
}

/// A one-line error and the exit status that tells scripts what went wrong.
struct CtlFailure: Error {
    enum Kind: Int32 {
        case failed = 1, notRunning = 3, unknownService = 4, permissionDenied = 5, timeout = 6
    }

    var kind: Kind
    var message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// An error answer: its one line, and 4 for an unknown service.
    init(answer: ControlClient.Answer) {
        let message = (try? JSONDecoder().decode(ControlAPI.ErrorReply.self, from: Data(answer.body)))?.error
            ?? "HTTP \(answer.status): \(String(decoding: answer.body.prefix(200), as: UTF8.self))"
        self.init(answer.status == 404 ? .unknownService : .failed, message)
    }

    init(_ failure: ControlClient.Failure) {
        switch failure {
        case .notRunning: self.init(.notRunning, failure.description)
        case .permissionDenied: self.init(.permissionDenied, failure.description)
        case .timedOut: self.init(.timeout, failure.description)
        case .failed: self.init(.failed, failure.description)
        }
    }
}

extension AsyncParsableCommand {
    /// Runs `body`, turning a `CtlFailure` into its line on stderr and its exit status.
    func reportingFailures(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let failure as CtlFailure {
            var line = "steward ctl: \(failure.message)\n"
            line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
            throw ExitCode(failure.kind.rawValue)
        }
    }
}

extension ControlClient {
    /// The decoded body of a 2xx answer; an error answer becomes a `CtlFailure`.
    func call<Reply: Decodable>(_ reply: Reply.Type, _ method: String, _ path: String, body: (some Encodable)? = nil as String?) async throws -> Reply {
        let answer: Answer
        do {
            let bytes = try body.map { Array(try JSONEncoder().encode($0)) }
            answer = method == "GET" ? try await get(path) : try await post(path, body: bytes)
        } catch let failure as ControlClient.Failure {
            throw CtlFailure(failure)
        }
        guard (200..<300).contains(answer.status) else { throw CtlFailure(answer: answer) }
        do {
            return try JSONDecoder().decode(Reply.self, from: Data(answer.body))
        } catch {
            throw CtlFailure(.failed, "cannot read Steward's answer to \(path): \(error)")
        }
    }
}

// MARK: status

extension Ctl {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show every service (or the named ones): state, pid, uptime, restarts, memory.")

        @ParentCommand var ctl: Ctl

        @Flag(help: "JSON (the schema of GET /v1/services, docs/control-api.md) instead of a table.")
        var json = false

        @Argument(help: "Services to show (default: all).")
        var names: [String] = []

        func run() async throws {
            try await reportingFailures {
                let client = try ctl.control.client()
                let report = try await client.call(StatusReport.self, "GET", "/v1/services")
                let unknown = names.filter { name in !report.services.contains { $0.name == name } }
                if let name = unknown.first { throw CtlFailure(.unknownService, "unknown service \"\(name)\"") }
                let shown = names.isEmpty ? report.services : report.services.filter { names.contains($0.name) }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                    print(String(decoding: try encoder.encode(StatusReport(services: shown)), as: UTF8.self))
                } else {
                    print(StatusTable.render(shown), terminator: "")
                }
            }
        }
    }
}

// MARK: start, stop, restart

/// The services a start, stop or restart acts on.
struct ServiceSelection: ParsableArguments {
    @Flag(help: "Every service.")
    var all = false

    @Flag(help: "Return once Steward has taken the command, without waiting for the service.")
    var noWait = false

    @Argument(help: "The services.")
    var names: [String] = []

    func validate() throws {
        if all == !names.isEmpty { throw ValidationError(all ? "name services or give --all, not both" : "name a service, or give --all") }
    }
}

/// Requests `ctl` has in flight at once: a stop of every service must not open more connections
/// than Steward serves at once (the rest would wait in, or overflow, the socket's accept queue).
let requestsInFlight = 16

/// Sends `verb` to each selected service side by side and prints one line per service, in order.
func perform(_ verb: String, on selection: ServiceSelection, control: ControlOptions) async throws {
    let client = try control.client()
    let names = selection.all ? try await client.call(StatusReport.self, "GET", "/v1/services").services.map(\.name) : selection.names
    let query = selection.noWait ? "?wait=0" : "?timeout=\(control.timeout)"
    let replies = await withTaskGroup(of: (Int, Result<ControlAPI.CommandReply, any Error>).self) { group in
        func send(_ index: Int) {
            let name = names[index]
            group.addTask {
                do {
                    return (index, .success(try await client.call(ControlAPI.CommandReply.self, "POST", "/v1/services/\(name)/\(verb)\(query)")))
                } catch {
                    return (index, .failure(error))
                }
            }
        }
        var next = 0
        while next < min(requestsInFlight, names.count) {
            send(next)
            next += 1
        }
        var replies = [Result<ControlAPI.CommandReply, any Error>?](repeating: nil, count: names.count)
        for await (index, reply) in group {
            replies[index] = reply
            if next < names.count {
                send(next)
                next += 1
            }
        }
        return replies.compactMap { $0 }
    }
    var worst: CtlFailure.Kind?
    for (name, reply) in zip(names, replies) {
        switch reply {
        case .success(let reply):
            print("\(name): \(reply.message)")
            switch reply.outcome {
            case .done, .accepted: break
            case .failed: worst = worst ?? .failed
            case .timeout: worst = .timeout
            }
        case .failure(let failure as CtlFailure):
            // One service's failure (unknown, no answer in time) does not hide the others' lines.
            print("\(name): \(failure.message)")
            worst = failure.kind == .timeout || worst == nil ? failure.kind : worst
        case .failure(let error):
            print("\(name): \(error)")
            worst = worst ?? .failed
        }
    }
    if let worst { throw ExitCode(worst.rawValue) }
}

extension Ctl {
    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start services; waits until each runs (or fails).")
        @ParentCommand var ctl: Ctl
        @OptionGroup var selection: ServiceSelection
        func run() async throws { try await reportingFailures { try await perform("start", on: selection, control: ctl.control) } }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop services (stop signal, then the whole cgroup is killed after stop_timeout); waits until each is stopped.")
        @ParentCommand var ctl: Ctl
        @OptionGroup var selection: ServiceSelection
        func run() async throws { try await reportingFailures { try await perform("stop", on: selection, control: ctl.control) } }
    }

    struct Restart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Restart services (counted as manual restarts); waits until each runs again.")
        @ParentCommand var ctl: Ctl
        @OptionGroup var selection: ServiceSelection
        func run() async throws { try await reportingFailures { try await perform("restart", on: selection, control: ctl.control) } }
    }

    struct SignalService: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "signal", abstract: "Send a signal to a service's main process (or all its processes).")
        @ParentCommand var ctl: Ctl

        @Flag(help: "Every process in the service's cgroup, not only its main process.")
        var allProcesses = false

        @Argument(help: "The service.")
        var name: String

        @Argument(help: "The signal: a name (HUP, SIGHUP) or a number.")
        var signal: String

        func validate() throws {
            if SignalName.parse(signal) == nil { throw ValidationError("unknown signal \"\(signal)\"") }
        }

        func run() async throws {
            try await reportingFailures {
                let reply = try await ctl.control.client().call(
                    ControlAPI.CommandReply.self, "POST", "/v1/services/\(name)/signal",
                    body: ControlAPI.SignalRequest(signal: signal, allProcesses: allProcesses)
                )
                print("\(name): \(reply.message)")
                if reply.outcome != .done { throw ExitCode(CtlFailure.Kind.failed.rawValue) }
            }
        }
    }

    struct Reload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reread the config file and apply it (what SIGHUP does), and say what changed.",
            discussion: "An invalid file changes nothing: the error names its file and line, and the exit status is 1."
        )
        @ParentCommand var ctl: Ctl

        func run() async throws {
            try await reportingFailures {
                let reply = try await ctl.control.client().call(ControlAPI.ReloadReply.self, "POST", "/v1/reload")
                for (label, names) in [("started", reply.started), ("stopped", reply.stopped), ("restarted", reply.restarted), ("unchanged", reply.unchanged)] {
                    for name in names { print("\(name): \(label)") }
                }
                if !reply.needsStewardRestart.isEmpty {
                    print("take effect only when Steward restarts: \(reply.needsStewardRestart.joined(separator: ", "))")
                }
            }
        }
    }
}

// MARK: logs

extension Ctl {
    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a service's recent output, line by line with time and stream; -f follows new lines.",
            discussion: "Steward keeps [control] log_lines / log_bytes of each service's output (on the console; under journald, use journalctl)."
        )
        @ParentCommand var ctl: Ctl

        @Option(name: [.customShort("n"), .long], help: "How many of the newest lines.")
        var lines = 100

        @Flag(name: [.customShort("f"), .long], help: "Keep printing lines as the service prints them, until interrupted.")
        var follow = false

        @Argument(help: "The service.")
        var name: String

        func validate() throws {
            if lines < 0 { throw ValidationError("--lines: a count, 0 or more") }
        }

        func run() async throws {
            try await reportingFailures {
                let client = try ctl.control.client()
                let path = "/v1/services/\(name)/logs?lines=\(lines)" + (follow ? "&follow=1" : "")
                let printer = LogPrinter()
                let answer: ControlClient.Answer
                do {
                    answer = follow ? try await client.stream(path) { try printer.feed($0) } : try await client.get(path)
                } catch let failure as ControlClient.Failure {
                    throw CtlFailure(failure)
                }
                guard (200..<300).contains(answer.status) else { throw CtlFailure(answer: answer) }
                try printer.feed(answer.body)
            }
        }
    }
}

/// Prints NDJSON log entries as they arrive, a piece at a time.
private final class LogPrinter: Sendable {
    private let pending = Mutex<[UInt8]>([])

    func feed(_ bytes: [UInt8]) throws {
        let lines = pending.withLock { pending -> [ArraySlice<UInt8>] in
            pending += bytes
            guard let last = pending.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
            let complete = Array(pending[...last])
            pending.removeSubrange(...last)
            return complete.split(separator: UInt8(ascii: "\n"))
        }
        var text = ""
        for line in lines {
            let entry = try JSONDecoder().decode(ControlAPI.LogEntry.self, from: Data(line))
            text += "\(Self.time(entry.time)) \(entry.stream == "stderr" ? "stderr" : "stdout") \(entry.line)\n"
        }
        print(text, terminator: "")
        fflush(nil)  // a follow's reader (a pipe, less) sees each line as it comes
    }

    /// Local time with milliseconds: "2026-12-04 17:16:04.123".
    static func time(_ seconds: Double) -> String {
        var whole = time_t(seconds.rounded(.down))
        var parts = tm()
        localtime_r(&whole, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S", &parts)
        let milliseconds = min(999, Int((seconds - seconds.rounded(.down)) * 1000))
        let fraction = String(milliseconds)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            + "." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
