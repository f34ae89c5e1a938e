import Glibc
import StewardCore
import StewardTOML

extension StewardConfiguration {
    /// Reads and parses the config file at `path`; errors name `path` as given.
    public static func load(
        contentsOf path: String, checkingHost hostProblems: (ServiceConfiguration) -> [ConfigIssue] = { _ in [] }
    ) throws(ConfigError) -> StewardConfiguration {
        try parse(readFile(path), file: path, checkingHost: hostProblems)
    }

    /// Parses config text; `file` names it in errors. `hostProblems` checks what only this machine
    /// can tell (users, groups, directories: the engine's `hostProblems()`); its issues are reported
    /// at their key's line like any other.
    public static func parse(
        _ text: String, file: String, checkingHost hostProblems: (ServiceConfiguration) -> [ConfigIssue] = { _ in [] }
    ) throws(ConfigError) -> StewardConfiguration {
        let root: TOMLTable
        do {
            root = try TOMLTable(parsing: text)
        } catch {
            let message = "invalid TOML (column \(error.position.column)): \(error.message)"
            throw ConfigError(file: file, line: error.position.line, message: message)
        }
        let document = TableReader(table: root, path: [], file: file)
        let configuration = try StewardConfiguration(document)
        if let issue = configuration.validate().first { throw document.error(issue.key, issue.message) }
        for service in configuration.services {
            if let issue = hostProblems(service).first { throw document.error(["services", service.name] + issue.key, issue.message) }
        }
        return configuration
    }

    private init(_ document: TableReader) throws(ConfigError) {
        try document.allowKeys(["metrics", "cgroup", "services"])
        var listen = ListenAddress.defaultMetrics
        var limits = MetricsListenLimits()
        if let metrics = try document.table("metrics") {
            try metrics.allowKeys(["listen", "max_connections", "idle_timeout", "max_header_bytes", "max_body_bytes"])
            let expected = "host:port, e.g. 127.0.0.1:9464 or [::1]:9464"
            listen = try metrics.parsed("listen", "listen address", expected: expected, ListenAddress.parse) ?? listen
            limits.maxConnections = try metrics.int("max_connections") ?? limits.maxConnections
            limits.idleTimeout = try metrics.duration("idle_timeout") ?? limits.idleTimeout
            limits.maxHeaderBytes = try metrics.size("max_header_bytes").map { Int(clamping: $0) } ?? limits.maxHeaderBytes
            limits.maxBodyBytes = try metrics.size("max_body_bytes").map { Int(clamping: $0) } ?? limits.maxBodyBytes
        }
        var root: String?
        if let cgroup = try document.table("cgroup") {
            try cgroup.allowKeys(["root"])
            root = try cgroup.text("root")
        }
        var services: [ServiceConfiguration] = []
        for service in try document.table("services")?.subtables() ?? [] {
            services.append(try ServiceConfiguration(service))
        }
        self.init(metricsListen: listen, metricsLimits: limits, cgroupRoot: root, services: services)
    }

    private static func readFile(_ path: String) throws(ConfigError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ConfigError(file: path, message: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw ConfigError(file: path, message: "cannot read: \(String(cString: strerror(errno)))")
            }
            bytes += chunk[..<count]
            guard bytes.count <= maximumFileBytes else {
                throw ConfigError(file: path, message: "larger than \(maximumFileBytes >> 20) MiB: not a config file Steward reads")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            // Name the first line that is not UTF-8 (lines are cut at "\n", which never occurs inside
            // a multi-byte sequence).
            let line = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
                .firstIndex { String(validating: $0, as: UTF8.self) == nil }.map { $0 + 1 }
            throw ConfigError(file: path, line: line, message: "not valid UTF-8 text")
        }
        return text
    }

    /// Far above any real config (a thousand services fit in a few hundred KiB), low enough that a
    /// hostile or mistaken file (a log, a core dump) is refused before it is parsed.
    public static let maximumFileBytes = 1 << 20
}

extension ServiceConfiguration {
    fileprivate init(_ table: TableReader) throws(ConfigError) {
        try table.allowKeys([
            "command", "restart", "stop_timeout", "stop_signal", "kill_mode", "environment",
            "working_directory", "user", "group", "autostart", "restart_delay", "restart_delay_max",
            "restart_reset_after", "start_limit", "ready", "start_timeout", "memory", "pids_max", "cpu_weight", "cpu_max",
        ])
        guard let command = try table.strings("command") else {
            throw table.error(["command"], "missing: give the program and its arguments, e.g. [\"/usr/bin/api\"]")
        }
        self.init(name: table.path.last ?? "", command: command)
        restart = try table.choice("restart") ?? restart
        stopTimeout = try table.duration("stop_timeout") ?? stopTimeout
        let signals = "a name such as TERM, INT, HUP, QUIT, KILL, USR1, USR2, or a number"
        stopSignal =
            try table.parsed("stop_signal", "signal", expected: signals, integers: true, SignalName.parse) ?? stopSignal
        killMode = try table.choice("kill_mode") ?? killMode
        environment = try table.stringTable("environment") ?? environment
        workingDirectory = try table.text("working_directory")
        user = try table.text("user", integers: true)
        group = try table.text("group", integers: true)
        autostart = try table.bool("autostart") ?? autostart
        backoff.initialDelay = try table.duration("restart_delay") ?? backoff.initialDelay
        backoff.maximumDelay = try table.duration("restart_delay_max") ?? backoff.maximumDelay
        backoff.resetAfter = try table.duration("restart_reset_after") ?? backoff.resetAfter
        backoff.startLimit = try table.int("start_limit") ?? backoff.startLimit
        readiness = try table.choice("ready") ?? readiness
        startTimeout = try table.duration("start_timeout") ?? startTimeout
        if let memory = try table.table("memory") { self.memory = try MemoryGuardConfiguration(memory) }
        resources = ResourceLimits(
            pidsMax: try table.int("pids_max"),
            cpuWeight: try table.int("cpu_weight"),
            cpuMaxPercent: try table.parsed("cpu_max", "CPU quota", expected: "a percentage of one CPU, e.g. \"50%\" or \"200%\"", ResourceLimits.parsePercent)
        )
    }
}

extension MemoryGuardConfiguration {
    fileprivate init(_ table: TableReader) throws(ConfigError) {
        try table.allowKeys([
            "anon_limit", "anon_limit_for", "sample_interval", "anon_limit_includes_shmem", "high", "max",
        ])
        let defaults = MemoryGuardConfiguration()
        self.init(
            anonLimitBytes: try table.size("anon_limit"),
            anonLimitFor: try table.duration("anon_limit_for"),
            sampleInterval: try table.duration("sample_interval") ?? defaults.sampleInterval,
            includesShmem: try table.bool("anon_limit_includes_shmem") ?? defaults.includesShmem,
            highBytes: try table.size("high"),
            maxBytes: try table.size("max")
        )
    }
}

/// One table of the document: typed accessors whose errors name the key, its line and the file.
/// Each accessor returns nil when the key is absent.
private struct TableReader {
    let table: TOMLTable
    let path: [String]
    let file: String

    /// `key` is relative to this table; its line is where it is written, else where its nearest
    /// written ancestor is (a missing key is reported at its table; one missing from the document's
    /// root, such as `[services]`, at line 1: the file as a whole).
    func error(_ key: [String], _ message: String) -> ConfigError {
        let path = self.path + key
        return ConfigError(file: file, line: line(of: key), key: path.isEmpty ? nil : ConfigError.dottedKey(path), message: message)
    }

    private func line(of key: [String]) -> Int? {
        var table = self.table
        var line = table.position?.line ?? (path.isEmpty ? 1 : nil)
        for segment in key {
            guard let position = table.position(of: segment) else { break }
            line = position.line
            guard let next = table[segment]?.table else { break }
            table = next
        }
        return line
    }

    /// Rejects any key not in `allowed`, suggesting the allowed key a typo most likely meant.
    func allowKeys(_ allowed: [String]) throws(ConfigError) {
        for key in table.keys where !allowed.contains(key) {
            // Two edits change the length by at most two: longer keys are compared with nothing, so
            // a megabyte-long key costs no more than a short one.
            let nearest = allowed.filter { abs($0.count - key.count) <= 2 }.map { ($0, editDistance(key, $0)) }.min { $0.1 < $1.1 }
            let hint = nearest.flatMap { $0.1 <= 2 ? " (did you mean \"\($0.0)\"?)" : nil } ?? ""
            throw error([key], "unknown key\(hint)")
        }
    }

    /// Every value of this table, each of which must itself be a table.
    func subtables() throws(ConfigError) -> [TableReader] {
        var tables: [TableReader] = []
        for key in table.keys {
            if let table = try table(key) { tables.append(table) }
        }
        return tables
    }

    func table(_ key: String) throws(ConfigError) -> TableReader? {
        try value(key, "a table") { $0.table }.map {
            TableReader(table: $0, path: path + [key], file: file)
        }
    }

    func bool(_ key: String) throws(ConfigError) -> Bool? {
        try value(key, "true or false") { $0.boolean }
    }

    func int(_ key: String) throws(ConfigError) -> Int? {
        try value(key, "an integer") { $0.integer.map { Int($0) } }
    }

    /// A string, or with `integers` also an integer taken as its decimal text (uids, signals, sizes).
    func text(_ key: String, integers: Bool = false) throws(ConfigError) -> String? {
        if integers {
            return try value(key, "a string or an integer") { $0.string ?? $0.integer.map { String($0) } }
        }
        return try value(key, "a string") { $0.string }
    }

    func strings(_ key: String) throws(ConfigError) -> [String]? {
        guard let array = try value(key, "an array of strings", { $0.array }) else { return nil }
        var strings: [String] = []
        for (index, element) in array.enumerated() {
            guard let string = element.string else {
                throw error([key], "expected an array of strings, element \(index + 1) is \(element.typeName)")
            }
            strings.append(string)
        }
        return strings
    }

    func stringTable(_ key: String) throws(ConfigError) -> [String: String]? {
        guard let table = try table(key) else { return nil }
        var strings: [String: String] = [:]
        for name in table.table.keys {
            strings[name] = try table.text(name)
        }
        return strings
    }

    /// Text in a notation `parse` reads; `expected` describes the notation in the error.
    func parsed<T>(
        _ key: String, _ what: String, expected: String, integers: Bool = false, _ parse: (String) -> T?
    ) throws(ConfigError) -> T? {
        guard let text = try text(key, integers: integers) else { return nil }
        guard let value = parse(text) else {
            throw error([key], "invalid \(what) \(text.quotedForMessage) (expected \(expected))")
        }
        return value
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String) throws(ConfigError) -> T?
    where T.RawValue == String {
        let choices = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        return try parsed(key, "value", expected: "one of \(choices)", T.init(rawValue:))
    }

    func duration(_ key: String) throws(ConfigError) -> Duration? {
        // Never guess the unit of a bare number; say how to write it instead.
        let raw = table[key]
        let bare = raw?.integer.map { String($0) } ?? raw?.string
        if let bare, !bare.isEmpty, bare.allSatisfy(\.isDigit) {
            guard bare.count <= String.quotedCharacters else {
                throw error([key], "duration \(bare.quotedForMessage) needs a unit (us, ms, s, m, h)")
            }
            let example = "write \"\(bare)s\" or \"\(bare)ms\" (units: us, ms, s, m, h)"
            throw error([key], "duration \(bare) needs a unit: \(example)")
        }
        return try parsed(key, "duration", expected: "e.g. 250ms, 10s, 5m, 1h", DurationText.parse)
    }

    /// A number of bytes, or text such as "512MiB".
    func size(_ key: String) throws(ConfigError) -> UInt64? {
        try parsed(key, "size", expected: "bytes or e.g. 512MiB, 1.5GiB", integers: true, ByteSize.parse)
    }

    /// The value at `key` converted by `convert`; a value `convert` rejects has the wrong type.
    private func value<T>(
        _ key: String, _ expected: String, _ convert: (TOMLValue) -> T?
    ) throws(ConfigError) -> T? {
        guard let raw = table[key] else { return nil }
        guard let value = convert(raw) else { throw error([key], "expected \(expected), found \(raw.typeName)") }
        return value
    }
}

/// Levenshtein distance, for "did you mean" hints.
private func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for (i, x) in a.enumerated() {
        var current = [i + 1]
        for (j, y) in b.enumerated() {
            current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
        }
        previous = current
    }
    return previous[b.count]
}
