import StewardConfig
import StewardCore
import Testing

/// The settings table is where a file's keys and `steward exec`'s flags both come from.
@Suite struct ServiceSettingTests {
    struct Sample: Sendable, CustomTestStringConvertible {
        /// The setting's dotted key.
        var key: String
        /// Lines of a service table that set it (with what it needs to be valid).
        var toml: String
        /// The same as flags: each setting's key and the flag's text.
        var flags: [(key: String, text: String)]
        var testDescription: String { key }
    }

    /// A value other than the default for every setting, written both ways.
    static let samples: [Sample] = [
        Sample(key: "restart", toml: "restart = \"always\"", flags: [("restart", "always")]),
        Sample(key: "stop_timeout", toml: "stop_timeout = \"1m30s\"", flags: [("stop_timeout", "1m30s")]),
        Sample(key: "stop_signal", toml: "stop_signal = 2", flags: [("stop_signal", "INT")]),
        Sample(key: "kill_mode", toml: "kill_mode = \"process\"", flags: [("kill_mode", "process")]),
        Sample(key: "environment", toml: "environment = { A = \"1=2\", B = \"\" }", flags: [("environment", "A=1=2"), ("environment", "B=")]),
        Sample(key: "working_directory", toml: "working_directory = \"/srv\"", flags: [("working_directory", "/srv")]),
        Sample(key: "user", toml: "user = 1000", flags: [("user", "1000")]),
        Sample(key: "group", toml: "user = \"api\"\ngroup = \"api\"", flags: [("user", "api"), ("group", "api")]),
        Sample(key: "autostart", toml: "autostart = false", flags: []),
        Sample(key: "restart_delay", toml: "restart_delay = \"1s\"", flags: [("restart_delay", "1s")]),
        Sample(key: "restart_delay_max", toml: "restart_delay_max = \"1m\"", flags: [("restart_delay_max", "1m")]),
        Sample(key: "restart_reset_after", toml: "restart_reset_after = \"5m\"", flags: [("restart_reset_after", "5m")]),
        Sample(key: "start_limit", toml: "start_limit = 0", flags: [("start_limit", "0")]),
        Sample(key: "ready", toml: "ready = \"notify\"", flags: [("ready", "notify")]),
        Sample(key: "start_timeout", toml: "start_timeout = \"2m\"", flags: [("start_timeout", "2m")]),
        Sample(key: "memory.anon_limit", toml: "memory.anon_limit = \"512MiB\"", flags: [("memory.anon_limit", "512MiB")]),
        Sample(key: "memory.anon_limit_for", toml: "memory.anon_limit_for = \"30s\"", flags: [("memory.anon_limit_for", "30s")]),
        Sample(key: "memory.sample_interval", toml: "memory.sample_interval = \"250ms\"", flags: [("memory.sample_interval", "250ms")]),
        Sample(key: "memory.anon_limit_includes_shmem", toml: "memory.anon_limit_includes_shmem = true",
               flags: [("memory.anon_limit_includes_shmem", "true")]),
        Sample(key: "memory.high", toml: "memory.high = 1073741824", flags: [("memory.high", "1GiB")]),
        Sample(key: "memory.max", toml: "memory.max = \"2G\"", flags: [("memory.max", "2147483648")]),
        Sample(key: "pids_max", toml: "pids_max = 512", flags: [("pids_max", "512")]),
        Sample(key: "cpu_weight", toml: "cpu_weight = 200", flags: [("cpu_weight", "200")]),
        Sample(key: "cpu_max", toml: "cpu_max = \"150%\"", flags: [("cpu_max", "150%")]),
    ]

    @Test func everySettingHasASampleAndTheCommandIsInEach() {
        #expect(Set(Self.samples.map(\.key)) == Set(ServiceSetting.all.map(\.dottedKey)).subtracting(["command"]))
    }

    @Test func everySettingHasAFlagOrAReasonWhyNot() {
        let reasons = ServiceSetting.all.compactMap { setting -> String? in
            if case .noFlag(let reason) = setting.exec { "\(setting.dottedKey): \(reason)" } else { nil }
        }
        #expect(reasons == ["command: exec takes the command after --", "autostart: exec starts its one service at once"])
        let flags = ServiceSetting.all.compactMap(\.exec.flagName)
        #expect(Set(flags).count == flags.count, "two settings share a flag: \(flags)")
        #expect(flags.contains("env") && flags.contains("memory-high") && flags.contains("anon-limit-includes-shmem"))
    }

    /// Only the few that differ from their key's last segment are spelled out.
    @Test func flagNamesComeFromTheKey() {
        for setting in ServiceSetting.all {
            guard let flag = setting.exec.flagName, !["environment", "memory.high", "memory.max"].contains(setting.dottedKey) else { continue }
            #expect(flag == setting.key.last!.replacing("_", with: "-"))
        }
    }

    @Test func defaultsShownInHelpAreTheConfigurationsDefaults() {
        let defaults = Dictionary(uniqueKeysWithValues: ServiceSetting.all.compactMap { setting in setting.defaultText.map { (setting.dottedKey, $0) } })
        #expect(defaults == [
            "restart": "on-failure", "stop_timeout": "10s", "stop_signal": "SIGTERM", "kill_mode": "control-group",
            "restart_delay": "100ms", "restart_delay_max": "30s", "restart_reset_after": "10s", "start_limit": "10",
            "ready": "started", "start_timeout": "1m30s", "memory.sample_interval": "1s",
        ])
    }

    @Test(arguments: samples)
    func aFileAndFlagsGiveTheSameService(_ sample: Sample) throws {
        let read = try #require(StewardConfiguration.parse("[services.api]\ncommand = [\"/bin/api\"]\n\(sample.toml)\n", file: "steward.toml").services.first)
        #expect(read != ServiceConfiguration(name: "api", command: ["/bin/api"]), "the sample is the default")
        if case .noFlag = ServiceSetting.named(sample.key).exec { return }
        let flags = sample.flags.map { (setting: ServiceSetting.named($0.key), text: $0.text) }
        #expect(try ServiceConfiguration(name: "api", command: ["/bin/api"], flags: flags) == read)
    }

    @Test(arguments: [
        ("stop_timeout", "10x", "--stop-timeout: invalid duration \"10x\" (expected e.g. 250ms, 10s, 5m, 1h)"),
        ("stop_timeout", "10", "--stop-timeout: duration 10 needs a unit: write \"10s\" or \"10ms\" (units: us, ms, s, m, h)"),
        ("restart", "sometimes", "--restart: invalid value \"sometimes\" (expected one of \"always\", \"on-failure\", \"never\")"),
        ("stop_signal", "SIGFOO", "--stop-signal: invalid signal \"SIGFOO\" (expected a name such as TERM, INT, HUP, QUIT, KILL, USR1, USR2, or a number)"),
        ("environment", "GOGC", "--env: expected NAME=VALUE, got \"GOGC\""),
        ("pids_max", "many", "--pids-max: invalid integer \"many\" (expected digits, e.g. 512)"),
        ("memory.high", "1 GiB", "--memory-high: invalid size \"1 GiB\" (expected bytes or e.g. 512MiB, 1.5GiB)"),
        ("cpu_max", "50", "--cpu-max: invalid CPU quota \"50\" (expected a percentage of one CPU, e.g. \"50%\" or \"200%\")"),
        // Values that read but break a rule are named by their flag too.
        ("stop_signal", "KILL", "--stop-signal: SIGKILL cannot be handled"),
        ("environment", "=1", "--env: invalid environment variable name: must be non-empty, without '='"),
        ("memory.sample_interval", "50ms", "--sample-interval: must be at least 100ms"),
        ("group", "api", "--group: takes effect only with user"),
        ("pids_max", "0", "--pids-max: must be 1 to 4194304"),
    ])
    func anInvalidFlagIsNamed(_ key: String, _ text: String, _ message: String) {
        #expect {
            try ServiceConfiguration(name: "api", command: ["/bin/api"], flags: [(ServiceSetting.named(key), text)])
        } throws: { error in
            (error as? FlagError)?.description.hasPrefix(message) == true
        }
    }

    @Test func aProblemOfNoFlagIsNotNamedAfterOne() throws {
        let error = #expect(throws: FlagError.self) { try ServiceConfiguration(name: "-api", command: ["/bin/api"], flags: []) }
        #expect(error == FlagError(flag: nil, message: "invalid service name: must not start with '-'"))
        let hostError = #expect(throws: FlagError.self) {
            try ServiceConfiguration(name: "api", command: ["/bin/api"], flags: [(ServiceSetting.named("user"), "nobody-here")]) { _ in
                [ConfigIssue(key: ["user"], message: "unknown user \"nobody-here\"")]
            }
        }
        #expect(hostError?.description == "--user: unknown user \"nobody-here\"")
    }
}
