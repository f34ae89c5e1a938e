import Foundation
import StewardConfig
import StewardCore
import StewardTOML
import Testing

private func parse(_ text: String) throws(ConfigError) -> StewardConfiguration {
    try StewardConfiguration.parse(text, file: "steward.toml")
}

private func parseError(_ text: String) -> ConfigError? {
    do {
        _ = try parse(text)
        return nil
    } catch {
        return error
    }
}

@Suite struct ConfigParsingTests {
    @Test func fullConfigParsesToExactValues() throws {
        let text = """
            [metrics]
            listen = "[::1]:9100"
            max_connections = 8
            idle_timeout = "1m"
            max_header_bytes = "8KiB"
            max_body_bytes = 0

            [cgroup]
            root = "/steward.slice"

            [control]
            socket = "/run/steward/api.sock"
            group = "steward"

            # Written before api on purpose: services come out sorted by name.
            [services.worker]
            command = ["/usr/bin/worker"]

            [services.worker.memory]
            anon_limit = "1G"

            [services.api]
            command = ["/usr/bin/api", "--port", "8080"]
            restart = "always"
            stop_timeout = "1m30s"
            stop_signal = "SIGINT"
            kill_mode = "process"
            environment = { GOGC = "100", "LANG" = "C.UTF-8" }
            working_directory = "/srv/api"
            user = "api"
            group = 1000
            autostart = false
            restart_delay = "250ms"
            restart_delay_max = "1m"
            restart_reset_after = "5m"
            start_limit = 0
            ready = "notify"
            start_timeout = "2m"
            pids_max = 512
            cpu_weight = 200
            cpu_max = "12.5%"

            [services.api.memory]
            anon_limit = "512MiB"
            sample_interval = "500ms"
            anon_limit_includes_shmem = true
            high = "1.5GiB"
            max = 2147483648
            """
        let expected = StewardConfiguration(
            metricsListen: ListenAddress(host: "::1", port: 9100),
            metricsLimits: MetricsListenLimits(maxConnections: 8, idleTimeout: .seconds(60), maxHeaderBytes: 8192, maxBodyBytes: 0),
            cgroupRoot: "/steward.slice",
            control: ControlSettings(socket: "/run/steward/api.sock", group: "steward"),
            services: [
                ServiceConfiguration(
                    name: "api",
                    command: ["/usr/bin/api", "--port", "8080"],
                    restart: .always,
                    stopTimeout: .seconds(90),
                    stopSignal: 2,
                    killMode: .process,
                    environment: ["GOGC": "100", "LANG": "C.UTF-8"],
                    workingDirectory: "/srv/api",
                    user: "api",
                    group: "1000",
                    autostart: false,
                    backoff: BackoffPolicy(
                        initialDelay: .milliseconds(250), maximumDelay: .seconds(60), resetAfter: .seconds(300),
                        startLimit: 0),
                    readiness: .notify,
                    startTimeout: .seconds(120),
                    memory: MemoryGuardConfiguration(
                        anonLimitBytes: 512 << 20,
                        sampleInterval: .milliseconds(500),
                        includesShmem: true,
                        highBytes: 1536 << 20,
                        maxBytes: 2 << 30
                    ),
                    resources: ResourceLimits(pidsMax: 512, cpuWeight: 200, cpuMaxPercent: 12.5)
                ),
                ServiceConfiguration(
                    name: "worker",
                    command: ["/usr/bin/worker"],
                    memory: MemoryGuardConfiguration(anonLimitBytes: 1 << 30)
                ),
            ]
        )
        let configuration = try parse(text)
        #expect(configuration == expected)
        #expect(configuration.services.map(\.name) == ["api", "worker"])
        #expect(configuration.metricsListen.description == "[::1]:9100")
        #expect(configuration.services[0].resources.cpuQuotaMicroseconds == 12_500)
        #expect(configuration.services[0].memory.anonLimitWindow == .milliseconds(1500))
    }

    /// Spelled out rather than compared with the initialisers' defaults, which could be wrong themselves.
    @Test func defaultsMatchTheDocumentedFormat() throws {
        let configuration = try parse("[services.a]\ncommand = [\"/bin/a\"]\n")
        #expect(configuration.metricsListen == ListenAddress(host: "127.0.0.1", port: 9464))
        #expect(configuration.cgroupRoot == nil)
        let service = try #require(configuration.services.first)
        #expect(service.restart == .onFailure)
        #expect(service.stopTimeout == .seconds(10))
        #expect(service.stopSignal == 15)
        #expect(service.killMode == .controlGroup)
        #expect(service.environment.isEmpty)
        #expect(service.workingDirectory == nil && service.user == nil && service.group == nil)
        #expect(service.autostart)
        #expect(service.backoff.initialDelay == .milliseconds(100))
        #expect(service.backoff.maximumDelay == .seconds(30))
        #expect(service.backoff.resetAfter == .seconds(10))
        #expect(service.backoff.startLimit == 10)
        #expect(service.readiness == .started)
        #expect(service.startTimeout == .seconds(90))
        #expect(service.memory.anonLimitBytes == nil && service.memory.highBytes == nil && service.memory.maxBytes == nil)
        #expect(service.memory.anonLimitFor == nil && service.memory.anonLimitWindow == .seconds(3))
        #expect(service.memory.sampleInterval == .seconds(1))
        #expect(!service.memory.includesShmem)
    }

    @Test func anonLimitForDefaultsToThreeSamples() throws {
        let configuration = try parse("""
            [services.a]
            command = ["/bin/a"]
            memory.anon_limit = 1048576
            memory.sample_interval = "200ms"
            """)
        #expect(configuration.services[0].memory.anonLimitBytes == 1 << 20)
        #expect(configuration.services[0].memory.anonLimitWindow == .milliseconds(600))
    }

    @Test func dottedKeysAndInlineTablesAreEquivalentToHeaders() throws {
        let configuration = try parse("""
            services.b.command = ["/bin/b"]
            services.a = { command = ["/bin/a"], restart = "never" }
            """)
        #expect(configuration.services.map(\.name) == ["a", "b"])
        #expect(configuration.services[0].restart == .never)
    }

    @Test func descriptionReadsLikeADiagnostic() throws {
        let error = try #require(parseError("[services.api]\ncommand = [\"/bin/api\"]\nstop_timeout = \"10x\"\n"))
        #expect(error.description
            == "steward.toml:3: services.api.stop_timeout: invalid duration \"10x\" (expected e.g. 250ms, 10s, 5m, 1h)")
        #expect(ConfigError(file: "s.toml", message: "cannot open: Permission denied").description
            == "s.toml: cannot open: Permission denied")
        #expect(ConfigError(file: "s.toml", key: "services", message: "no services defined").description
            == "s.toml: services: no services defined")
    }

    struct BadInput: Sendable, CustomTestStringConvertible {
        var label: String
        var toml: String
        var line: Int?
        var key: String?
        var message: String
        var testDescription: String { label }
    }

    /// A minimal valid service to append bad settings to: `[services.api]` on line 1, command on line 2.
    static let api = "[services.api]\ncommand = [\"/bin/api\"]\n"

    static let badInputs: [BadInput] = [
        // TOML itself
        BadInput(label: "syntax error", toml: "[services.api\ncommand = [\"/bin/api\"]\n",
            line: 1, key: nil, message: "invalid TOML (column 14): expected \"]\" to close the header, found a newline"),
        BadInput(label: "missing value", toml: api + "restart =\n", line: 3, key: nil,
            message: "invalid TOML (column 10): expected a value, found a newline"),
        BadInput(label: "duplicate service table", toml: api + "\n[services.api]\ncommand = [\"/bin/b\"]\n",
            line: 4, key: nil, message: "invalid TOML (column 11): table [services.api] is already defined on line 1"),
        BadInput(label: "duplicate key", toml: api + "restart = \"always\"\nrestart = \"never\"\n",
            line: 4, key: nil, message: "invalid TOML (column 1): duplicate key \"restart\" (first defined on line 3)"),
        BadInput(label: "unquoted duration", toml: api + "stop_timeout = 10s\n", line: 3, key: nil,
            message: "invalid TOML (column 18): invalid character \"s\" in a number (text must be quoted: \"10s\")"),
        // Structure
        BadInput(label: "no services at all", toml: "[metrics]\nlisten = \"127.0.0.1:9000\"\n",
            line: 1, key: "services", message: "no services defined"),
        BadInput(label: "an empty file", toml: "",
            line: 1, key: "services", message: "no services defined"),
        BadInput(label: "empty services table", toml: "[metrics]\n[services]\n",
            line: 2, key: "services", message: "no services defined"),
        BadInput(label: "service is not a table", toml: "[services]\napi = \"/bin/api\"\n",
            line: 2, key: "services.api", message: "expected a table, found string"),
        BadInput(label: "array of tables", toml: "[[services]]\ncommand = [\"/bin/api\"]\n",
            line: 1, key: "services", message: "expected a table, found array"),
        BadInput(label: "memory is not a table", toml: api + "memory = \"1G\"\n",
            line: 3, key: "services.api.memory", message: "expected a table, found string"),
        // Unknown keys, at every level
        BadInput(label: "unknown top-level key with hint", toml: "[servics.api]\n",
            line: 1, key: "servics", message: "unknown key (did you mean \"services\"?)"),
        BadInput(label: "unknown metrics key", toml: "[metrics]\nlisen = \"x\"\n" + api,
            line: 2, key: "metrics.lisen", message: "did you mean \"listen\"?"),
        BadInput(label: "unknown cgroup key", toml: "[cgroup]\npath = \"/x\"\n" + api,
            line: 2, key: "cgroup.path", message: "unknown key"),
        BadInput(label: "unknown service key with hint", toml: api + "stop_timout = \"5s\"\n",
            line: 3, key: "services.api.stop_timout", message: "unknown key (did you mean \"stop_timeout\"?)"),
        BadInput(label: "unknown service key without hint", toml: api + "priority = 5\n",
            line: 3, key: "services.api.priority", message: "unknown key"),
        BadInput(label: "unknown memory key", toml: api + "[services.api.memory]\nanon_limt = \"1G\"\n",
            line: 4, key: "services.api.memory.anon_limt", message: "did you mean \"anon_limit\"?"),
        // command
        BadInput(label: "missing command", toml: "[services.api]\nrestart = \"always\"\n",
            line: 1, key: "services.api.command", message: "missing"),
        BadInput(label: "empty command", toml: "[services.api]\ncommand = []\n",
            line: 2, key: "services.api.command", message: "must not be empty"),
        BadInput(label: "empty program", toml: "[services.api]\ncommand = [\"\", \"-x\"]\n",
            line: 2, key: "services.api.command", message: "the program (first element) must not be empty"),
        BadInput(label: "command is a string", toml: "[services.api]\ncommand = \"/bin/api --port 1\"\n",
            line: 2, key: "services.api.command", message: "expected an array of strings, found string"),
        BadInput(label: "command element is a number", toml: "[services.api]\ncommand = [\n  \"/bin/api\",\n  8080,\n]\n",
            line: 2, key: "services.api.command", message: "element 2 is integer"),
        // Service names
        BadInput(label: "name with a space", toml: "[services.\"my api\"]\ncommand = [\"/bin/api\"]\n",
            line: 1, key: "services.\"my api\"", message: "only letters, digits, '_' and '-'"),
        BadInput(label: "name with a dot", toml: "[services.\"..\"]\ncommand = [\"/bin/api\"]\n",
            line: 1, key: "services.\"..\"", message: "only letters, digits"),
        BadInput(label: "name starting with a dash", toml: "[services.-api]\ncommand = [\"/bin/api\"]\n",
            line: 1, key: "services.-api", message: "must not start with '-'"),
        BadInput(label: "reserved name", toml: "[services.steward]\ncommand = [\"/bin/api\"]\n",
            line: 1, key: "services.steward", message: "reserved"),
        BadInput(label: "name too long", toml: "[services.\(String(repeating: "a", count: 65))]\ncommand = [\"/bin/api\"]\n",
            line: 1, key: "services.\"" + String(repeating: "a", count: 64) + "…\" (65 bytes)", message: "1 to 64 characters"),
        // Choices
        BadInput(label: "bad restart", toml: api + "restart = \"sometimes\"\n",
            line: 3, key: "services.api.restart", message: "invalid value \"sometimes\" (expected one of \"always\", \"on-failure\", \"never\")"),
        BadInput(label: "bad kill_mode", toml: api + "kill_mode = \"cgroup\"\n",
            line: 3, key: "services.api.kill_mode", message: "one of \"control-group\", \"process\""),
        BadInput(label: "bad ready", toml: api + "ready = \"systemd\"\n",
            line: 3, key: "services.api.ready", message: "one of \"started\", \"notify\""),
        BadInput(label: "autostart as a string", toml: api + "autostart = \"yes\"\n",
            line: 3, key: "services.api.autostart", message: "expected true or false, found string"),
        // Durations
        BadInput(label: "bad duration", toml: api + "stop_timeout = \"10x\"\n",
            line: 3, key: "services.api.stop_timeout", message: "invalid duration \"10x\" (expected e.g. 250ms, 10s, 5m, 1h)"),
        BadInput(label: "duration without unit", toml: api + "restart_delay = \"100\"\n",
            line: 3, key: "services.api.restart_delay", message: "duration 100 needs a unit: write \"100s\" or \"100ms\""),
        BadInput(label: "duration as an integer", toml: api + "start_timeout = 90\n",
            line: 3, key: "services.api.start_timeout", message: "duration 90 needs a unit"),
        BadInput(label: "duration as a boolean", toml: api + "restart_reset_after = true\n",
            line: 3, key: "services.api.restart_reset_after", message: "expected a string, found boolean"),
        BadInput(label: "negative duration", toml: api + "stop_timeout = \"-5s\"\n",
            line: 3, key: "services.api.stop_timeout", message: "invalid duration \"-5s\""),
        BadInput(label: "restart_delay_max below restart_delay", toml: api + "restart_delay = \"5s\"\nrestart_delay_max = \"1s\"\n",
            line: 4, key: "services.api.restart_delay_max", message: "must be at least restart_delay (1s < 5s)"),
        BadInput(label: "restart_delay above the default maximum", toml: api + "restart_delay = \"1m\"\n",
            line: 1, key: "services.api.restart_delay_max", message: "(30s < 1m)"),
        BadInput(label: "sample_interval too short", toml: api + "[services.api.memory]\nsample_interval = \"50ms\"\n",
            line: 4, key: "services.api.memory.sample_interval", message: "must be at least 100ms"),
        // Sizes
        BadInput(label: "bad size unit", toml: api + "[services.api.memory]\nanon_limit = \"512MB/s\"\n",
            line: 4, key: "services.api.memory.anon_limit", message: "invalid size \"512MB/s\" (expected bytes or e.g. 512MiB, 1.5GiB)"),
        BadInput(label: "overflowing size", toml: api + "[services.api.memory]\nmax = \"99999999999TiB\"\n",
            line: 4, key: "services.api.memory.max", message: "invalid size \"99999999999TiB\""),
        BadInput(label: "negative size", toml: api + "[services.api.memory]\nhigh = -1\n",
            line: 4, key: "services.api.memory.high", message: "invalid size \"-1\""),
        BadInput(label: "size as a float", toml: api + "[services.api.memory]\nhigh = 1.5\n",
            line: 4, key: "services.api.memory.high", message: "expected a string or an integer, found float"),
        // Other values
        BadInput(label: "negative start_limit", toml: api + "start_limit = -1\n",
            line: 3, key: "services.api.start_limit", message: "must not be negative"),
        BadInput(label: "start_limit as a string", toml: api + "start_limit = \"10\"\n",
            line: 3, key: "services.api.start_limit", message: "expected an integer, found string"),
        BadInput(label: "unknown signal", toml: api + "stop_signal = \"SIGFOO\"\n",
            line: 3, key: "services.api.stop_signal", message: "invalid signal \"SIGFOO\""),
        BadInput(label: "signal number out of range", toml: api + "stop_signal = 99\n",
            line: 3, key: "services.api.stop_signal", message: "invalid signal \"99\""),
        BadInput(label: "environment value not a string", toml: api + "environment = { GOGC = 100 }\n",
            line: 3, key: "services.api.environment.GOGC", message: "expected a string, found integer"),
        BadInput(label: "environment name with '='", toml: api + "[services.api.environment]\n\"A=B\" = \"1\"\n",
            line: 4, key: "services.api.environment.\"A=B\"", message: "invalid environment variable name"),
        BadInput(label: "environment not a table", toml: api + "environment = [\"A=B\"]\n",
            line: 3, key: "services.api.environment", message: "expected a table, found array"),
        BadInput(label: "relative working_directory", toml: api + "working_directory = \"srv/api\"\n",
            line: 3, key: "services.api.working_directory", message: "must be an absolute path"),
        BadInput(label: "empty user", toml: api + "user = \"\"\n",
            line: 3, key: "services.api.user", message: "must not be empty"),
        BadInput(label: "group as a boolean", toml: api + "group = false\n",
            line: 3, key: "services.api.group", message: "expected a string or an integer, found boolean"),
        BadInput(label: "relative control socket", toml: "[control]\nsocket = \"steward.sock\"\n" + api,
            line: 2, key: "control.socket", message: "must be an absolute path"),
        BadInput(label: "unknown control key", toml: "[control]\nsockett = \"/run/s.sock\"\n" + api,
            line: 2, key: "control.sockett", message: "did you mean \"socket\"?"),
        BadInput(label: "listen without port", toml: "[metrics]\nlisten = \"localhost\"\n" + api,
            line: 2, key: "metrics.listen", message: "invalid listen address \"localhost\" (expected host:port"),
        BadInput(label: "unbracketed IPv6 listen", toml: "[metrics]\nlisten = \"::1:9464\"\n" + api,
            line: 2, key: "metrics.listen", message: "invalid listen address"),
        BadInput(label: "listen port out of range", toml: "[metrics]\nlisten = \"127.0.0.1:65536\"\n" + api,
            line: 2, key: "metrics.listen", message: "invalid listen address"),
        BadInput(label: "cgroup root escaping upwards", toml: "[cgroup]\nroot = \"steward/../..\"\n" + api,
            line: 2, key: "cgroup.root", message: "must not contain \".\" or \"..\" components"),
        // What exec or the kernel would cut short, ignore or turn into a loop
        BadInput(label: "NUL in an argument", toml: "[services.api]\ncommand = [\"/bin/echo\", \"a\\u0000b\"]\n",
            line: 2, key: "services.api.command", message: "must not contain a NUL character"),
        BadInput(label: "NUL in an environment value", toml: api + "environment = { A = \"x\\u0000y\" }\n",
            line: 3, key: "services.api.environment.A", message: "must not contain a NUL character"),
        BadInput(label: "NUL in the working directory", toml: api + "working_directory = \"/srv\\u0000/api\"\n",
            line: 3, key: "services.api.working_directory", message: "must not contain a NUL character"),
        BadInput(label: "stop_signal KILL", toml: api + "stop_signal = \"KILL\"\n",
            line: 3, key: "services.api.stop_signal", message: "SIGKILL cannot be handled"),
        BadInput(label: "stop_signal STOP", toml: api + "stop_signal = \"STOP\"\n",
            line: 3, key: "services.api.stop_signal", message: "SIGSTOP suspends the service instead of stopping it"),
        BadInput(label: "stop_signal CHLD", toml: api + "stop_signal = \"CHLD\"\n",
            line: 3, key: "services.api.stop_signal", message: "SIGCHLD does not ask a program to stop"),
        BadInput(label: "stop_signal 32", toml: api + "stop_signal = 32\n",
            line: 3, key: "services.api.stop_signal", message: "reserved by the C library"),
        BadInput(label: "anon_limit 0", toml: api + "[services.api.memory]\nanon_limit = \"0\"\n",
            line: 4, key: "services.api.memory.anon_limit", message: "must be at least 1MiB: no program runs in 0B"),
        BadInput(label: "max 1 byte", toml: api + "[services.api.memory]\nmax = \"1\"\n",
            line: 4, key: "services.api.memory.max", message: "must be at least 1MiB"),
        BadInput(label: "high above max", toml: api + "[services.api.memory]\nhigh = \"2GiB\"\nmax = \"1GiB\"\n",
            line: 4, key: "services.api.memory.high", message: "must not be above max (2GiB > 1GiB)"),
        BadInput(label: "anon_limit above max", toml: api + "[services.api.memory]\nmax = \"1GiB\"\nanon_limit = \"2GiB\"\n",
            line: 5, key: "services.api.memory.anon_limit", message: "is above max (2GiB > 1GiB)"),
        BadInput(label: "group without user", toml: api + "group = \"nogroup\"\n",
            line: 3, key: "services.api.group", message: "takes effect only with user"),
        // The metrics listener's limits
        BadInput(label: "max_connections 0", toml: "[metrics]\nmax_connections = 0\n" + api,
            line: 2, key: "metrics.max_connections", message: "must be 1 to 65536"),
        BadInput(label: "idle_timeout too short", toml: "[metrics]\nidle_timeout = \"10ms\"\n" + api,
            line: 2, key: "metrics.idle_timeout", message: "must be at least 100ms"),
        BadInput(label: "max_header_bytes too large", toml: "[metrics]\nmax_header_bytes = \"2MiB\"\n" + api,
            line: 2, key: "metrics.max_header_bytes", message: "must be 1KiB to 1MiB"),
        BadInput(label: "max_body_bytes too large", toml: "[metrics]\nmax_body_bytes = \"2GiB\"\n" + api,
            line: 2, key: "metrics.max_body_bytes", message: "must be 0 to 1GiB"),
        // Task and CPU limits
        BadInput(label: "pids_max 0", toml: api + "pids_max = 0\n",
            line: 3, key: "services.api.pids_max", message: "must be 1 to 4194304"),
        BadInput(label: "cpu_weight 0", toml: api + "cpu_weight = 0\n",
            line: 3, key: "services.api.cpu_weight", message: "must be 1 to 10000"),
        BadInput(label: "cpu_weight above 10000", toml: api + "cpu_weight = 10001\n",
            line: 3, key: "services.api.cpu_weight", message: "must be 1 to 10000"),
        BadInput(label: "cpu_max without %", toml: api + "cpu_max = \"50\"\n",
            line: 3, key: "services.api.cpu_max", message: "invalid CPU quota \"50\" (expected a percentage of one CPU"),
        BadInput(label: "cpu_max under 1%", toml: api + "cpu_max = \"0.5%\"\n",
            line: 3, key: "services.api.cpu_max", message: "must be 1% to 100000% of one CPU"),
        // Layouts: the line is still the key's own
        BadInput(label: "top-level dotted key", toml: "services.api.command = [\"/bin/api\"]\n\nservices.api.restart = \"sometimes\"\n",
            line: 3, key: "services.api.restart", message: "invalid value"),
        BadInput(label: "inline service table", toml: "[services]\nweb = { command = [\"/bin/web\"] }\napi = { command = [\"/bin/api\"], stop_timeout = \"soon\" }\n",
            line: 3, key: "services.api.stop_timeout", message: "invalid duration \"soon\""),
        BadInput(label: "after a multi-line array", toml: "[services.api]\ncommand = [\n  \"/bin/api\",\n  \"[services.x]\",  # not a header\n]\nkill_mode = \"all\"\n",
            line: 6, key: "services.api.kill_mode", message: "invalid value"),
    ]

    @Test func hostileKeysAndValuesAreQuotedShortAndEscaped() throws {
        let long = String(repeating: "x", count: 1 << 20)
        let unknown = try #require(parseError(Self.api + "\(long) = 1\n"))
        #expect(unknown.description == "steward.toml:3: services.api.\"\(String(repeating: "x", count: String.quotedCharacters))…\" (1048576 bytes): unknown key")
        let value = try #require(parseError(Self.api + "stop_timeout = \"\(long)\"\n"))
        #expect(value.description.count < 300, "\(value.description.prefix(300))")
        #expect(value.message.hasPrefix("invalid duration \"\(String(repeating: "x", count: String.quotedCharacters))…\" (1048576 bytes)"))
        let bare = try #require(parseError(Self.api + "stop_timeout = \"\(String(repeating: "9", count: 100_000))\"\n"))
        #expect(bare.message == "duration \"\(String(repeating: "9", count: String.quotedCharacters))…\" (100000 bytes) needs a unit (us, ms, s, m, h)")
        let newline = try #require(parseError("[services.\"a\\nb\"]\ncommand = [\"/bin/a\"]\n"))
        #expect(newline.key == "services.\"a\\nb\"", "a newline in a name is written as \\n, never raw")
        #expect(!newline.description.contains("\n"))
        let duplicate = try #require(parseError("[services.\"a\\u0007\"]\ncommand = [\"/bin/a\"]\ncommand = [\"/bin/b\"]\n"))
        #expect(duplicate.message == "invalid TOML (column 1): duplicate key \"command\" (first defined on line 2)")
        #expect(ConfigError(file: "f", key: "k", message: "m").description == "f: k: m")
        #expect("bell\u{7}\t\"q\"\\".quotedForMessage == "\"bell\\u0007\\t\\\"q\\\"\\\\\"")
    }

    @Test(arguments: badInputs)
    func badInputIsReportedAtItsKeyAndLine(_ input: BadInput) throws {
        let error = try #require(parseError(input.toml), "parsed without error")
        #expect(error.file == "steward.toml")
        #expect(error.line == input.line)
        #expect(error.key == input.key)
        #expect(error.message.contains(input.message), "\(error.message)")
    }

    @Test func loadReadsTheFileAndNamesItInErrors() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("steward-config-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let good = directory.appendingPathComponent("good.toml").path
        try Data("[services.a]\ncommand = [\"/bin/a\"]\n".utf8).write(to: URL(fileURLWithPath: good))
        #expect(try StewardConfiguration.load(contentsOf: good).services.map(\.name) == ["a"])

        let bad = directory.appendingPathComponent("bad.toml").path
        try Data("[services.a]\ncommand = [\"/bin/a\"]\nrestart = \"no\"\n".utf8).write(to: URL(fileURLWithPath: bad))
        let restartMessage = "invalid value \"no\" (expected one of \"always\", \"on-failure\", \"never\")"
        #expect(loadError(bad) == ConfigError(file: bad, line: 3, key: "services.a.restart", message: restartMessage))

        let binary = directory.appendingPathComponent("binary.toml").path
        try Data("[services.a]\ncommand = [\"/bin/a\"]\n".utf8 + [0x61, 0x20, 0x3D, 0x20, 0x22, 0xFF, 0x22]).write(to: URL(fileURLWithPath: binary))
        #expect(loadError(binary) == ConfigError(file: binary, line: 3, message: "not valid UTF-8 text"))

        let huge = directory.appendingPathComponent("huge.toml").path
        try Data(repeating: 0x23, count: StewardConfiguration.maximumFileBytes + 1).write(to: URL(fileURLWithPath: huge))
        #expect(loadError(huge) == ConfigError(file: huge, message: "larger than 1 MiB: not a config file Steward reads"))
        let largest = directory.appendingPathComponent("largest.toml").path
        let header = Data("[services.a]\ncommand = [\"/bin/a\"]\n#".utf8)
        try (header + Data(repeating: 0x23, count: StewardConfiguration.maximumFileBytes - header.count)).write(to: URL(fileURLWithPath: largest))
        #expect(try StewardConfiguration.load(contentsOf: largest).services.map(\.name) == ["a"])

        let missing = directory.appendingPathComponent("missing.toml").path
        #expect(loadError(missing) == ConfigError(file: missing, message: "cannot open: No such file or directory"))
        #expect(loadError(directory.path) == ConfigError(file: directory.path, message: "cannot read: Is a directory"))
    }

    private func loadError(_ path: String) -> ConfigError? {
        do {
            _ = try StewardConfiguration.load(contentsOf: path)
            return nil
        } catch {
            return error
        }
    }
}

@Suite struct ControlSocketPathTests {
    @Test("the default control socket is named after the config file, in /run/steward for root and the runtime directory otherwise", arguments: [
        ("/etc/steward/steward.toml", UInt32(0), nil, "/run/steward/steward.sock"),
        ("/etc/steward/web.toml", 0, "/run/user/0", "/run/steward/web.sock"),
        ("relative/dir/api.conf", 0, nil, "/run/steward/api.conf.sock"),
        (".toml", 0, nil, "/run/steward/.toml.sock"),
        ("/home/me/steward.toml", 1000, "/run/user/1000", "/run/user/1000/steward/steward.sock"),
        ("/home/me/steward.toml", 1000, nil, nil),
    ] as [(String, UInt32, String?, String?)])
    func defaultPath(config: String, userID: UInt32, runtime: String?, expected: String?) {
        #expect(ControlSettings.defaultSocketPath(forConfig: config, userID: userID, runtimeDirectory: runtime) == expected)
    }
}
