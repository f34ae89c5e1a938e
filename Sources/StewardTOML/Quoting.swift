extension String {
    /// How much of a key or value a message quotes: enough to recognise it, never a whole
    /// megabyte of hostile input.
    public static let quotedCharacters = 64

    /// This text in double quotes with TOML's escapes, for error messages: a newline or a control
    /// character in a name cannot break a log line, and text longer than `quotedCharacters` is cut,
    /// with its full length said.
    public var quotedForMessage: String {
        var escaped = ""
        for scalar in prefix(Self.quotedCharacters).unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            case "\r": escaped += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                escaped += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                escaped.unicodeScalars.append(scalar)
            }
        }
        let cut = count > Self.quotedCharacters ? "…\" (\(utf8.count) bytes)" : "\""
        return "\"" + escaped + cut
    }
}
