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
        try document.allowKeys(["metrics", "cgroup", "control", "services"])
        var listen = ListenAddress.defaultMetrics
        var limits = MetricsListenLimits()
        if let metrics = try document.table("metrics") {
            try metrics.allowKeys(["listen", "max_connections", "idle_timeout", "max_header_bytes", "max_body_bytes"])
            listen = try metrics.value("listen", .listenAddress) ?? listen
            limits.maxConnections = try metrics.int("max_connections") ?? limits.maxConnections
            limits.idleTimeout = try metrics.value("idle_timeout", .duration) ?? limits.idleTimeout
            limits.maxHeaderBytes = try metrics.value("max_header_bytes", .size).map { Int(clamping: $0) } ?? limits.maxHeaderBytes
            limits.maxBodyBytes = try metrics.value("max_body_bytes", .size).map { Int(clamping: $0) } ?? limits.maxBodyBytes
        }
        var root: String?
        if let cgroup = try document.table("cgroup") {
            try cgroup.allowKeys(["root"])
            root = try cgroup.text("root")
        }
        var control = ControlSettings()
        if let table = try document.table("control") {
            try table.allowKeys(["socket", "group", "log_lines", "log_bytes"])
            control.socket = try table.text("socket")
            control.group = try table.text("group")
            control.logLines = try table.int("log_lines") ?? control.logLines
            control.logBytes = try table.value("log_bytes", .size) ?? control.logBytes
        }
        var services: [ServiceConfiguration] = []
        for service in try document.table("services")?.subtables() ?? [] {
            services.append(try ServiceConfiguration(service))
        }
        self.init(metricsListen: listen, metricsLimits: limits, cgroupRoot: root, control: control, services: services)
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
        self.init(name: table.path.last ?? "", command: [])
        try read(table, below: [])
    }

    /// Reads the settings whose keys start with `prefix` (`table`'s path within the service's table)
    /// in `ServiceSetting.all` order, a subtable where its first setting is; keys no setting has are
    /// refused first.
    private mutating func read(_ table: TableReader, below prefix: [String]) throws(ConfigError) {
        let settings = ServiceSetting.all.filter { $0.key.count > prefix.count && $0.key.starts(with: prefix) }
        var names: [String] = []
        for setting in settings where !names.contains(setting.key[prefix.count]) {
            names.append(setting.key[prefix.count])
        }
        try table.allowKeys(names)
        for name in names {
            if let setting = settings.first(where: { $0.key == prefix + [name] }) {
                try setting.read(table, &self)
            } else if let subtable = try table.table(name) {
                try read(subtable, below: prefix + [name])
            }
        }
    }
}

/// One table of the document: typed accessors whose errors name the key, its line and the file.
/// Each accessor returns nil when the key is absent.
struct TableReader {
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

    /// Text in `notation`.
    func value<T>(_ key: String, _ notation: TextNotation<T>) throws(ConfigError) -> T? {
        // An integer where only text is taken may still be explained better than by its type.
        if !notation.integers, let integer = table[key]?.integer, let hint = notation.hint(String(integer)) {
            throw error([key], hint)
        }
        guard let text = try text(key, integers: notation.integers) else { return nil }
        do {
            return try notation.read(text)
        } catch {
            throw self.error([key], error.message)
        }
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
