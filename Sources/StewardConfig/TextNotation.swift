import StewardTOML

/// What is wrong with a value, without saying where it was written: the caller names the key or flag.
struct InvalidValue: Error {
    var message: String
}

/// How a value is written as text, in a config file and in a flag alike: the parser, and what an
/// error says was expected.
struct TextNotation<Value>: Sendable {
    /// Names the value in errors: `invalid duration "10x" (expected …)`.
    let what: String
    let expected: String
    /// Whether a TOML integer is taken as its decimal text (uids, signals, sizes).
    var integers = false
    let parse: @Sendable (String) -> Value?
    /// Spells a value as `parse` reads it, for a default shown in help (only settings with one need it).
    var format: (@Sendable (Value) -> String)? = nil
    /// Says more than `expected` about some text `parse` rejects (a duration without its unit); also
    /// asked about a TOML integer where only text is taken.
    var hint: @Sendable (String) -> String? = { _ in nil }

    func read(_ text: String) throws(InvalidValue) -> Value {
        if let value = parse(text) { return value }
        throw InvalidValue(message: hint(text) ?? "invalid \(what) \(text.quotedForMessage) (expected \(expected))")
    }
}

// The parsers are wrapped in closures: a plain function reference is not inferred @Sendable, and the
// fuzz build (Swift 5 mode) warns about converting it.
extension TextNotation where Value == Duration {
    static var duration: Self {
        TextNotation(what: "duration", expected: "e.g. 250ms, 10s, 5m, 1h", parse: { DurationText.parse($0) }, format: { DurationText.format($0) }) { text in
            // Never guess the unit of a bare number; say how to write it instead.
            guard !text.isEmpty, text.allSatisfy(\.isDigit) else { return nil }
            guard text.count <= String.quotedCharacters else { return "duration \(text.quotedForMessage) needs a unit (us, ms, s, m, h)" }
            return "duration \(text) needs a unit: write \"\(text)s\" or \"\(text)ms\" (units: us, ms, s, m, h)"
        }
    }
}

extension TextNotation where Value == UInt64 {
    /// A number of bytes, or text such as "512MiB".
    static var size: Self {
        TextNotation(what: "size", expected: "bytes or e.g. 512MiB, 1.5GiB", integers: true, parse: { ByteSize.parse($0) })
    }
}

extension TextNotation where Value == Int32 {
    static var signal: Self {
        TextNotation(what: "signal", expected: "a name such as TERM, INT, HUP, QUIT, KILL, USR1, USR2, or a number", integers: true,
                     parse: { SignalName.parse($0) }, format: { SignalName.name($0) })
    }
}

extension TextNotation where Value == Double {
    static var cpuPercent: Self {
        TextNotation(what: "CPU quota", expected: "a percentage of one CPU, e.g. \"50%\" or \"200%\"", parse: { ResourceLimits.parsePercent($0) })
    }
}

extension TextNotation where Value == Int {
    /// For a flag's text; in a file an integer is a TOML integer.
    static var integer: Self {
        TextNotation(what: "integer", expected: "digits, e.g. 512", parse: { Int($0) })
    }
}

extension TextNotation where Value == ListenAddress {
    static var listenAddress: Self {
        TextNotation(what: "listen address", expected: "host:port, e.g. 127.0.0.1:9464 or [::1]:9464", parse: { ListenAddress.parse($0) })
    }
}

extension TextNotation where Value: RawRepresentable & CaseIterable & Sendable, Value.RawValue == String {
    static var choice: Self {
        let choices = Value.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        return TextNotation(what: "value", expected: "one of \(choices)", parse: { Value(rawValue: $0) }, format: { $0.rawValue })
    }
}
