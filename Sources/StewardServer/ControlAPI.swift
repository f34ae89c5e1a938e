import StewardMetrics

/// The bodies of the control API (docs/control-api.md), shared by the server and `steward ctl`.
/// Keys are snake_case; keys are only ever added within /v1.
public enum ControlAPI {
    /// What a start, stop, restart or signal became.
    public struct CommandReply: Codable, Sendable, Equatable {
        public var service: String
        /// start, stop, restart or signal.
        public var command: String
        public var outcome: Outcome
        /// One line for a person: "running (pid 4242)", "already running", "exit status 1".
        public var message: String
        /// The service once the command was handled (and, when asked to wait, once it settled);
        /// null if a reload removed it meanwhile.
        public var status: ServiceStatus?

        public enum Outcome: String, Codable, Sendable {
            /// The service reached the state the command asks for (or, for a signal, was sent it).
            case done
            /// Taken, and not waited for (`wait=0`).
            case accepted
            /// The service did not reach the state: it failed, exited, or went to backoff.
            case failed
            /// Still on its way when the wait ran out.
            case timeout
        }

        public init(service: String, command: String, outcome: Outcome, message: String, status: ServiceStatus?) {
            self.service = service
            self.command = command
            self.outcome = outcome
            self.message = message
            self.status = status
        }
    }

    /// `POST /v1/services/NAME/signal`.
    public struct SignalRequest: Codable, Sendable, Equatable {
        /// A name (HUP, SIGHUP) or a number.
        public var signal: String
        /// Every process in the service's cgroup instead of its main process.
        public var allProcesses: Bool?

        enum CodingKeys: String, CodingKey {
            case signal
            case allProcesses = "all_processes"
        }

        public init(signal: String, allProcesses: Bool) {
            self.signal = signal
            self.allProcesses = allProcesses
        }
    }

    /// `POST /v1/reload`: what the new file did to each service.
    public struct ReloadReply: Codable, Sendable, Equatable {
        public var started: [String]
        public var stopped: [String]
        public var restarted: [String]
        public var unchanged: [String]
        /// Settings whose new values take effect only when Steward restarts.
        public var needsStewardRestart: [String]

        enum CodingKeys: String, CodingKey {
            case started, stopped, restarted, unchanged
            case needsStewardRestart = "needs_steward_restart"
        }

        public init(started: [String], stopped: [String], restarted: [String], unchanged: [String], needsStewardRestart: [String]) {
            self.started = started
            self.stopped = stopped
            self.restarted = restarted
            self.unchanged = unchanged
            self.needsStewardRestart = needsStewardRestart
        }
    }

    /// One line of `GET /v1/services/NAME/logs`, which answers one such object per line (NDJSON).
    public struct LogEntry: Codable, Sendable, Equatable {
        /// When Steward read the line, seconds since the epoch.
        public var time: Double
        /// stdout or stderr.
        public var stream: String
        /// The line without its newline; bytes that are not UTF-8 are replaced (U+FFFD).
        public var line: String

        public init(time: Double, stream: String, line: String) {
            self.time = time
            self.stream = stream
            self.line = line
        }
    }

    /// Every answer other than 2xx: a line for a person.
    public struct ErrorReply: Codable, Sendable, Equatable {
        public var error: String

        public init(error: String) {
            self.error = error
        }
    }
}
