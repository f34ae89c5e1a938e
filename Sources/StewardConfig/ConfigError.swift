import StewardTOML

/// A configuration problem, located as precisely as the text allows.
///
/// `description` reads like a compiler diagnostic:
/// `steward.toml:12: services.api.stop_timeout: invalid duration "10x" (expected e.g. 250ms, 10s, 5m, 1h)`.
public struct ConfigError: Error, Equatable, CustomStringConvertible {
    /// The config file's path as given to `load`/`parse`.
    public var file: String
    /// The 1-based line of the offending key or table; nil when it is not written in the file
    /// (e.g. "no services defined") or the file could not be read.
    public var line: Int?
    /// The full dotted key, e.g. `services.api.memory.anon_limit`; nil for syntax and I/O errors.
    public var key: String?
    public var message: String

    public init(file: String, line: Int? = nil, key: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return [location, key, message].compactMap { $0 }.joined(separator: ": ")
    }

    /// Spells a key path the way TOML would: segments that are not bare keys are quoted.
    static func dottedKey(_ path: [String]) -> String {
        path.map { segment in
            if !segment.isEmpty, segment.count <= String.quotedCharacters, segment.utf8.allSatisfy(\.isBareKeyByte) { return segment }
            return segment.quotedForMessage
        }.joined(separator: ".")
    }
}

/// A rule a configuration breaks, found by `validate()`.
///
/// `key` is the path of the offending setting as the config file spells it, relative to the value
/// validated (e.g. `["restart_delay_max"]` for a service), so a CLI can map it to its own flag.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    public var key: [String]
    public var message: String

    public init(key: [String], message: String) {
        self.key = key
        self.message = message
    }

    public var description: String {
        key.isEmpty ? message : "\(ConfigError.dottedKey(key)): \(message)"
    }
}
