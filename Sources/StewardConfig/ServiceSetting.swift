import StewardCore
import StewardTOML

/// One key of a `[services.<name>]` table, declared once: the config reader and `steward exec`'s
/// flags are both derived from `ServiceSetting.all`, so a new setting is one entry there (and, for
/// an option, one declaration in `exec`, which a test checks).
public struct ServiceSetting: Sendable {
    /// Where a service's table holds it: `["stop_timeout"]`, `["memory", "anon_limit"]`.
    public let key: [String]
    /// How `steward exec` takes it.
    public let exec: ExecForm
    /// What it does, in one sentence: `steward exec --help` shows it beside the flag.
    public let help: String
    /// The default, spelled as a flag takes it (`10s`, `on-failure`); nil when unset by default.
    public let defaultText: String?
    /// Reads the setting from the table that holds its key's last segment.
    let read: @Sendable (TableReader, inout ServiceConfiguration) throws(ConfigError) -> Void
    /// Applies one flag's text; nil when `exec` has no flag for it.
    let take: (@Sendable (String, inout ServiceConfiguration) throws(InvalidValue) -> Void)?

    public enum ExecForm: Sendable, Equatable {
        /// `--name VALUE`.
        case option(String)
        /// `--name VALUE`, repeatable: each adds to the value.
        case repeatableOption(String)
        /// `--name` alone, which sets the setting to true.
        case flag(String)
        /// No flag, for this reason.
        case noFlag(reason: String)

        /// Without the leading "--"; nil for `noFlag`.
        public var flagName: String? {
            switch self {
            case .option(let name), .repeatableOption(let name), .flag(let name): name
            case .noFlag: nil
            }
        }
    }

    public var dottedKey: String { key.joined(separator: ".") }

    /// The setting whose dotted key is `dottedKey`; a key no setting has is a programming error.
    public static func named(_ dottedKey: String) -> ServiceSetting {
        guard let setting = all.first(where: { $0.dottedKey == dottedKey }) else { preconditionFailure("no service setting \(dottedKey)") }
        return setting
    }

    /// `flag` overrides the name derived from the key's last segment (`stop_timeout` → `stop-timeout`);
    /// `noFlag` says why `exec` has none; `missing` makes the key required, with that message.
    private init<Value>(
        _ dottedKey: String, _ value: SettingValue<Value>,
        get: @escaping @Sendable (ServiceConfiguration) -> Value?, set: @escaping @Sendable (inout ServiceConfiguration, Value) -> Void,
        flag: String?, noFlag reason: String?, missing: String?, help: String
    ) {
        let key = dottedKey.split(separator: ".").map(String.init)
        let name = key[key.count - 1]
        self.key = key
        self.help = help
        defaultText = value.format.flatMap { format in get(ServiceConfiguration(name: "", command: [])).map(format) }
        read = { table, service throws(ConfigError) in
            if let read = try value.read(table, name) {
                set(&service, read)
            } else if let missing {
                throw table.error([name], "missing: \(missing)")
            }
        }
        let flagName = flag ?? String(name.map { $0 == "_" ? "-" : $0 })
        switch (reason, value.flag) {
        case (let reason?, _):
            exec = .noFlag(reason: reason)
            take = nil
        case (nil, let syntax?):
            exec = syntax.form(flagName)
            take = { text, service throws(InvalidValue) in set(&service, try syntax.take(text, get(service))) }
        case (nil, nil):
            preconditionFailure("\(dottedKey): a \(Value.self) cannot be a flag; say why exec has none")
        }
    }

    private init<Value>(
        _ dottedKey: String, _ value: SettingValue<Value>, _ field: WritableKeyPath<ServiceConfiguration, Value> & Sendable,
        flag: String? = nil, noFlag reason: String? = nil, missing: String? = nil, help: String
    ) {
        self.init(dottedKey, value, get: { $0[keyPath: field] }, set: { $0[keyPath: field] = $1 },
                  flag: flag, noFlag: reason, missing: missing, help: help)
    }

    /// For a setting that is unset (nil) by default.
    private init<Value>(
        _ dottedKey: String, _ value: SettingValue<Value>, _ field: WritableKeyPath<ServiceConfiguration, Value?> & Sendable,
        flag: String? = nil, help: String
    ) {
        self.init(dottedKey, value, get: { $0[keyPath: field] }, set: { $0[keyPath: field] = $1 },
                  flag: flag, noFlag: nil, missing: nil, help: help)
    }
}

extension ServiceSetting {
    /// Every setting, in the order a file is read: of several problems, the first one met is reported.
    /// A subtable (`memory`) is read where its first setting is.
    public static let all: [ServiceSetting] = [
        ServiceSetting("command", .arguments, \.command, noFlag: "exec takes the command after --",
                       missing: "give the program and its arguments, e.g. [\"/usr/bin/api\"]", help: "The program and its arguments."),
        ServiceSetting("restart", .choice, \.restart, help: "When the service is started again after it exits: always, on-failure or never."),
        ServiceSetting("stop_timeout", .text(.duration), \.stopTimeout, help: "Time between the stop signal and SIGKILL to the whole cgroup."),
        ServiceSetting("stop_signal", .text(.signal), \.stopSignal, help: "Signal that asks the service to stop (e.g. TERM, INT, QUIT)."),
        ServiceSetting("kill_mode", .choice, \.killMode,
                       help: "control-group (the stop signal to every process) or process (to the main process only)."),
        ServiceSetting("environment", .environment, \.environment, flag: "env", help: "NAME=VALUE added to the service's environment (repeatable)."),
        ServiceSetting("working_directory", .text(), \.workingDirectory, help: "Working directory of the service."),
        ServiceSetting("user", .text(integers: true), \.user, help: "Run the service as this user (name or uid)."),
        ServiceSetting("group", .text(integers: true), \.group, help: "Run the service with this group (name or gid)."),
        ServiceSetting("autostart", .boolean, \.autostart, noFlag: "exec starts its one service at once",
                       help: "Whether the service starts with Steward."),
        ServiceSetting("restart_delay", .text(.duration), \.backoff.initialDelay, help: "The first restart delay, doubled after each quick failure."),
        ServiceSetting("restart_delay_max", .text(.duration), \.backoff.maximumDelay, help: "The longest restart delay."),
        ServiceSetting("restart_reset_after", .text(.duration), \.backoff.resetAfter,
                       help: "A run at least this long resets the restart delay and the count of quick runs."),
        ServiceSetting("start_limit", .integer, \.backoff.startLimit, help: "This many quick runs in a row and the service has failed (0: never give up)."),
        ServiceSetting("ready", .choice, \.readiness,
                       help: "started, or notify: the service is up once it sends READY=1 to $NOTIFY_SOCKET."),
        ServiceSetting("start_timeout", .text(.duration), \.startTimeout, help: "How long a --ready notify service may take to send READY=1."),
        ServiceSetting("memory.anon_limit", .text(.size), \.memory.anonLimitBytes,
                       help: "Restart the service when its anonymous memory (+ swap) stays above this size (e.g. 512MiB)."),
        ServiceSetting("memory.anon_limit_for", .text(.duration), \.memory.anonLimitFor,
                       help: "How long anonymous memory must stay above --anon-limit (default: 3 sampling periods)."),
        ServiceSetting("memory.sample_interval", .text(.duration), \.memory.sampleInterval,
                       help: "How often the memory guard samples the cgroup (at least 100ms)."),
        ServiceSetting("memory.anon_limit_includes_shmem", .boolean, \.memory.includesShmem,
                       help: "Count shmem (tmpfs, shared mappings) towards --anon-limit too."),
        ServiceSetting("memory.high", .text(.size), \.memory.highBytes, flag: "memory-high",
                       help: "The kernel's soft memory limit for the cgroup (memory.high)."),
        ServiceSetting("memory.max", .text(.size), \.memory.maxBytes, flag: "memory-max",
                       help: "The kernel's hard memory limit for the cgroup (memory.max)."),
        ServiceSetting("pids_max", .integer, \.resources.pidsMax,
                       help: "The most tasks (processes and threads) the service's cgroup may hold (pids.max)."),
        ServiceSetting("cpu_weight", .integer, \.resources.cpuWeight,
                       help: "CPU weight against other cgroups, 1 to 10000 (default 100; cpu.weight, or cpu.shares on v1)."),
        ServiceSetting("cpu_max", .text(.cpuPercent), \.resources.cpuMaxPercent,
                       help: "CPU time as a percentage of one CPU, e.g. 50% or 200% (cpu.max, or the CFS quota on v1)."),
    ]
}

/// How a setting's value is read from its key, taken from a flag, and spelled in help.
struct SettingValue<Value>: Sendable {
    /// The value at a key of a table, nil when absent.
    let read: @Sendable (TableReader, String) throws(ConfigError) -> Value?
    /// How a flag takes the value; nil when no flag can.
    let flag: FlagSyntax?
    /// Spells a value as a flag takes it, for a default shown in help (only settings with one need it).
    var format: (@Sendable (Value) -> String)? = nil

    struct FlagSyntax: Sendable {
        let form: @Sendable (String) -> ServiceSetting.ExecForm
        /// The value one flag's text makes of the value so far (nil when unset).
        let take: @Sendable (String, Value?) throws(InvalidValue) -> Value
    }
}

extension SettingValue {
    /// The same text in a file and in a flag.
    static func text(_ notation: TextNotation<Value>) -> Self {
        SettingValue(read: { table, key throws(ConfigError) in try table.value(key, notation) },
                     flag: FlagSyntax(form: { .option($0) }) { text, _ throws(InvalidValue) in try notation.read(text) },
                     format: notation.format)
    }
}

extension SettingValue where Value: RawRepresentable & CaseIterable & Sendable, Value.RawValue == String {
    static var choice: Self { .text(.choice) }
}

extension SettingValue where Value == String {
    /// Any string, or with `integers` also an integer taken as its decimal text (uids, gids).
    static func text(integers: Bool = false) -> Self {
        SettingValue(read: { table, key throws(ConfigError) in try table.text(key, integers: integers) },
                     flag: FlagSyntax(form: { .option($0) }) { text, _ in text })
    }
}

extension SettingValue where Value == Int {
    /// A TOML integer in a file.
    static var integer: Self {
        SettingValue(read: { table, key throws(ConfigError) in try table.int(key) },
                     flag: FlagSyntax(form: { .option($0) }) { text, _ throws(InvalidValue) in try TextNotation<Int>.integer.read(text) },
                     format: { String($0) })
    }
}

extension SettingValue where Value == Bool {
    /// true or false in a file; a flag without a value sets it to true (its text is "true").
    static var boolean: Self {
        SettingValue(
            read: { table, key throws(ConfigError) in try table.bool(key) },
            flag: FlagSyntax(form: { .flag($0) }) { text, _ throws(InvalidValue) in
                guard let value = Bool(text) else { throw InvalidValue(message: "expected true or false, got \(text.quotedForMessage)") }
                return value
            }
        )
    }
}

extension SettingValue where Value == [String] {
    /// An array of strings; no flag takes one.
    static var arguments: Self {
        SettingValue(read: { table, key throws(ConfigError) in try table.strings(key) }, flag: nil)
    }
}

extension SettingValue where Value == [String: String] {
    /// A table of strings in a file; each flag adds one NAME=VALUE.
    static var environment: Self {
        SettingValue(
            read: { table, key throws(ConfigError) in try table.stringTable(key) },
            flag: FlagSyntax(form: { .repeatableOption($0) }) { assignment, variables throws(InvalidValue) in
                guard let equals = assignment.firstIndex(of: "=") else {
                    throw InvalidValue(message: "expected NAME=VALUE, got \(assignment.quotedForMessage)")
                }
                return (variables ?? [:]).merging([String(assignment[..<equals]): String(assignment[assignment.index(after: equals)...])]) { $1 }
            }
        )
    }
}

/// A flag's value that cannot be read, or a rule the service it describes breaks; `description`
/// names the flag: `--stop-timeout: invalid duration "10x" (expected e.g. 250ms, 10s, 5m, 1h)`.
public struct FlagError: Error, Equatable, CustomStringConvertible {
    /// Without the leading "--"; nil for a problem of no one flag (the name, the command).
    public var flag: String?
    public var message: String

    public init(flag: String?, message: String) {
        self.flag = flag
        self.message = message
    }

    public var description: String { flag.map { "--\($0): \(message)" } ?? message }
}

extension ServiceConfiguration {
    /// The service `steward exec` describes: `flags` holds each setting's flag as given, with its
    /// text ("true" for a flag without a value), applied in order to the defaults. The result is
    /// validated (with `hostProblems` as in `StewardConfiguration.parse`), and errors name the flag.
    public init(
        name: String, command: [String], flags: [(setting: ServiceSetting, text: String)],
        checkingHost hostProblems: (ServiceConfiguration) -> [ConfigIssue] = { _ in [] }
    ) throws(FlagError) {
        self.init(name: name, command: command)
        for (setting, text) in flags {
            guard let take = setting.take else { preconditionFailure("\(setting.dottedKey) has no flag") }
            do {
                try take(text, &self)
            } catch {
                throw FlagError(flag: setting.exec.flagName, message: error.message)
            }
        }
        if let issue = (validate() + hostProblems(self)).first {
            // An issue's key is the setting's, or below it (`environment.NAME`).
            let setting = ServiceSetting.all.first { issue.key.starts(with: $0.key) }
            guard let flag = setting?.exec.flagName else { throw FlagError(flag: nil, message: issue.description) }
            throw FlagError(flag: flag, message: issue.message)
        }
    }
}
