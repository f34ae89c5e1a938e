import ArgumentParser
import StewardConfig

/// `exec`'s flag for each service setting. ArgumentParser needs a declaration per option, so each one
/// here names its setting, which gives the option's name, help and default; `given` collects them by
/// their type, so no list restates them. Settings that a flag alone sets all come from `switches`.
/// A test compares these flags with `ServiceSetting.all`.
struct ServiceSettingFlags: ParsableArguments {
    @Option(setting: "restart") var restart: GivenFlag?
    @Option(setting: "stop_timeout") var stopTimeout: GivenFlag?
    @Option(setting: "stop_signal") var stopSignal: GivenFlag?
    @Option(setting: "kill_mode") var killMode: GivenFlag?
    @Option(setting: "environment") var environment: [GivenFlag] = []
    @Option(setting: "working_directory") var workingDirectory: GivenFlag?
    @Option(setting: "user") var user: GivenFlag?
    @Option(setting: "group") var group: GivenFlag?
    @Option(setting: "restart_delay") var restartDelay: GivenFlag?
    @Option(setting: "restart_delay_max") var restartDelayMax: GivenFlag?
    @Option(setting: "restart_reset_after") var restartResetAfter: GivenFlag?
    @Option(setting: "start_limit") var startLimit: GivenFlag?
    @Option(setting: "ready") var ready: GivenFlag?
    @Option(setting: "start_timeout") var startTimeout: GivenFlag?
    @Option(setting: "memory.anon_limit") var anonLimit: GivenFlag?
    @Option(setting: "memory.anon_limit_for") var anonLimitFor: GivenFlag?
    @Option(setting: "memory.sample_interval") var sampleInterval: GivenFlag?
    @Option(setting: "memory.high") var memoryHigh: GivenFlag?
    @Option(setting: "memory.max") var memoryMax: GivenFlag?
    @Option(setting: "pids_max") var pidsMax: GivenFlag?
    @Option(setting: "cpu_weight") var cpuWeight: GivenFlag?
    @Option(setting: "cpu_max") var cpuMax: GivenFlag?

    @Flag var switches: [SettingSwitch] = []

    /// Every setting flag given, with its text, in declaration order.
    var given: [(setting: ServiceSetting, text: String)] {
        let options = Mirror(reflecting: self).children.flatMap { child -> [GivenFlag] in
            switch child.value {
            case let option as Option<GivenFlag?>: option.wrappedValue.map { [$0] } ?? []
            case let option as Option<[GivenFlag]>: option.wrappedValue
            default: []
            }
        }
        return options.map { ($0.setting, $0.text) } + switches.map { ($0.setting, "true") }
    }
}

/// An option's text, with the setting it is for.
struct GivenFlag {
    let setting: ServiceSetting
    let text: String
}

extension Option where Value == GivenFlag? {
    /// `--<flag> VALUE` for the setting whose key is `key`.
    init(setting key: String) {
        let setting = ServiceSetting.named(key)
        guard case .option(let flag) = setting.exec else { preconditionFailure("\(key) is not an option but \(setting.exec)") }
        self.init(name: .customLong(flag), help: setting.flagHelp) { GivenFlag(setting: setting, text: $0) }
    }
}

extension Option where Value == [GivenFlag] {
    /// `--<flag> VALUE`, repeatable, for the setting whose key is `key`.
    init(wrappedValue: [GivenFlag], setting key: String) {
        let setting = ServiceSetting.named(key)
        guard case .repeatableOption(let flag) = setting.exec else { preconditionFailure("\(key) is not a repeatable option but \(setting.exec)") }
        self.init(wrappedValue: wrappedValue, name: .customLong(flag), help: setting.flagHelp) { GivenFlag(setting: setting, text: $0) }
    }
}

/// A setting a flag alone sets (`--anon-limit-includes-shmem`): one flag for each such setting.
struct SettingSwitch: EnumerableFlag {
    let setting: ServiceSetting
    let flag: String

    static let allCases = ServiceSetting.all.compactMap { setting in
        if case .flag(let flag) = setting.exec { SettingSwitch(setting: setting, flag: flag) } else { nil }
    }

    static func == (a: SettingSwitch, b: SettingSwitch) -> Bool { a.flag == b.flag }

    static func name(for value: SettingSwitch) -> NameSpecification { .customLong(value.flag) }

    static func help(for value: SettingSwitch) -> ArgumentHelp? { value.setting.flagHelp }
}

extension ServiceSetting {
    /// The sentence, then the default where there is one.
    var flagHelp: ArgumentHelp {
        ArgumentHelp(defaultText.map { "\(help) (default: \($0))" } ?? help)
    }
}
