import TOMLKit

/// The line on which each table and key of a TOML document is written.
///
/// TOMLKit reports positions for syntax errors only, so errors about values find their line here.
/// This is a lenient skim, not a parser: it follows just enough TOML (table headers, dotted and
/// quoted keys, strings, multi-line arrays, inline tables, comments) to know where keys are, and
/// on malformed text it records less rather than failing.
struct KeyLines {
    /// Paths written out in full: `[a.b]` defines `a.b`; `c.d = 1` below it defines `a.b.c.d`.
    private(set) var defined: [[String]: Int] = [:]
    /// Tables only implied by a longer path (`a` and `a.b.c` above), at their first mention.
    private(set) var implied: [[String]: Int] = [:]

    init(_ text: String) {
        var skimmer = Skimmer(bytes: Array(text.utf8))
        skimmer.document()
        defined = skimmer.defined
        implied = skimmer.implied
    }

    /// The line of `path`, else of its nearest written ancestor: a missing key is reported at its table.
    func line(of path: [String]) -> Int? {
        var path = path
        while !path.isEmpty {
            if let line = defined[path] ?? implied[path] { return line }
            path.removeLast()
        }
        return nil
    }
}

private struct Skimmer {
    let bytes: [UInt8]
    var index = 0
    var line = 1
    var defined: [[String]: Int] = [:]
    var implied: [[String]: Int] = [:]

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func document() {
        var table: [String] = []
        while true {
            skipTrivia(newlines: true)
            guard index < bytes.count else { return }
            if at("[") {
                let line = self.line
                advance(at("[[") ? 2 : 1)
                table = keyPath()
                record(table, under: [], line: line)
                skipLine()  // the closing bracket(s) and any comment
            } else {
                keyValue(in: table)
            }
        }
    }

    /// `key = value`; records the key under `table`, or nothing when `table` is nil
    /// (an inline table inside an array has no key path).
    mutating func keyValue(in table: [String]?) {
        let line = self.line
        let key = keyPath()
        skipTrivia(newlines: false)
        guard !key.isEmpty, at("=") else { return skipLine() }
        advance()
        if let table { record(key, under: table, line: line) }
        skipTrivia(newlines: false)
        value(at: table.map { $0 + key })
    }

    mutating func value(at path: [String]?) {
        if at("\"") || at("'") {
            skipString()
        } else if at("[") {
            advance()
            items(closing: "]") { $0.value(at: nil) }
        } else if at("{") {
            advance()
            items(closing: "}") { $0.keyValue(in: path) }
        } else {
            // A number, boolean or date: runs to the next separator.
            while index < bytes.count, !" \t\r\n,]}#".utf8.contains(bytes[index]) { advance() }
        }
    }

    /// The comma-separated items of an array or inline table, through `closing`.
    mutating func items(closing: String, _ item: (inout Skimmer) -> Void) {
        while true {
            skipTrivia(newlines: true)
            guard index < bytes.count else { return }
            if at(closing) { return advance() }
            let start = index
            item(&self)
            skipTrivia(newlines: true)
            if at(",") || index == start { advance() }  // on malformed text, skip a byte to make progress
        }
    }

    /// A dotted key such as `a."b.c".d`, with blanks allowed around the dots.
    mutating func keyPath() -> [String] {
        var path: [String] = []
        while true {
            skipTrivia(newlines: false)
            guard let key = key() else { return path }
            path.append(key)
            skipTrivia(newlines: false)
            guard at(".") else { return path }
            advance()
        }
    }

    mutating func key() -> String? {
        let start = index
        if at("\"") || at("'") {
            skipString()
            let quoted = String(decoding: bytes[start..<index], as: UTF8.self)
            guard quoted.count >= 2, quoted.last == quoted.first else { return nil }
            // Escapes in keys are rare: let TOMLKit decode them rather than repeat TOML's escape rules.
            if quoted.first == "\"", quoted.contains("\\") {
                return (try? TOMLTable(string: "\(quoted) = 0"))?.keys.first
            }
            return String(quoted.dropFirst().dropLast())
        }
        while index < bytes.count, bytes[index].isBareKeyByte { advance() }
        return index > start ? String(decoding: bytes[start..<index], as: UTF8.self) : nil
    }

    /// Skips a basic, literal or multi-line string.
    mutating func skipString() {
        let quote = at("\"") ? "\"" : "'"
        let tripled = String(repeating: quote, count: 3)
        let delimiter = at(tripled) ? tripled : quote
        advance(delimiter.count)
        while index < bytes.count {
            if quote == "\"", at("\\") {
                advance(2)
            } else if at(delimiter) {
                advance(delimiter.count)
                // A multi-line string may end with up to two quotes of content before its delimiter.
                while delimiter == tripled, at(quote) { advance() }
                return
            } else if delimiter == quote, at("\n") {
                return  // unterminated
            } else {
                advance()
            }
        }
    }

    /// Blanks and comments, and with `newlines` also line ends.
    mutating func skipTrivia(newlines: Bool) {
        while index < bytes.count {
            if at(" ") || at("\t") || at("\r") || (newlines && at("\n")) {
                advance()
            } else if at("#") {
                while index < bytes.count, !at("\n") { advance() }
            } else {
                return
            }
        }
    }

    mutating func skipLine() {
        while index < bytes.count, !at("\n") { advance() }
        advance()
    }

    /// Records `key` (a header or dotted key) written under `table`; the key's own leading parts are
    /// the tables it implies, while `table` was recorded where it was written.
    mutating func record(_ key: [String], under table: [String], line: Int) {
        guard !key.isEmpty else { return }
        if defined[table + key] == nil { defined[table + key] = line }
        for count in 1..<key.count where implied[table + key.prefix(count)] == nil {
            implied[table + key.prefix(count)] = line
        }
    }

    func at(_ text: String) -> Bool {
        bytes[index...].starts(with: text.utf8)
    }

    /// Moves past `count` bytes (fewer at the end of the text), counting lines.
    mutating func advance(_ count: Int = 1) {
        for _ in 0..<count where index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") { line += 1 }
            index += 1
        }
    }
}
