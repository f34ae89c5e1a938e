extension TOMLTable {
    /// Parses a whole TOML 1.0 document; the result is its root table.
    public init(parsing text: String) throws(TOMLSyntaxError) {
        var parser = DocumentParser(text)
        self = try parser.parseDocument()
    }
}

/// TOML's grammar above the token level: lines of key/value pairs and headers, arrays
/// and inline tables. The table rules live in `TableNode`.
struct DocumentParser {
    private var scanner: ByteScanner
    private let root = TableNode(origin: .standalone, position: nil, depth: 0)

    init(_ text: String) {
        scanner = ByteScanner(text)
    }

    mutating func parseDocument() throws(TOMLSyntaxError) -> TOMLTable {
        var table = root
        while true {
            scanner.skipWhitespace()
            switch scanner.current {
            case nil:
                return root.frozen()
            case .hash?, .lineFeed?, .carriageReturn?:
                try scanner.skipComment()
                _ = try scanner.consumeNewline()
            case .openBracket?:
                table = try parseHeader()
                try expectEndOfLine(after: "the table header")
            default:
                try parseKeyValue(into: table)
                try expectEndOfLine(after: "the value")
            }
        }
    }

    /// After a header or a key/value pair, only whitespace and a comment may follow on the line.
    private mutating func expectEndOfLine(after what: String) throws(TOMLSyntaxError) {
        scanner.skipWhitespace()
        try scanner.skipComment()
        if scanner.current == nil { return }
        guard try scanner.consumeNewline() else {
            throw scanner.error("expected a newline or end of file after \(what), found \(scanner.describeCurrent)")
        }
    }

    /// `[a.b]` or `[[a.b]]`; returns the table that the following pairs go into.
    private mutating func parseHeader() throws(TOMLSyntaxError) -> TableNode {
        scanner.index += 1
        let isArrayOfTables = scanner.consume(.openBracket)
        let path = try parseKey()
        // The brackets of `[[` and `]]` must be adjacent.
        for _ in 0..<(isArrayOfTables ? 2 : 1) {
            guard scanner.consume(.closeBracket) else {
                let closing = isArrayOfTables ? "]]" : "]"
                throw scanner.error("expected \"\(closing)\" to close the header, found \(scanner.describeCurrent)")
            }
        }
        return try isArrayOfTables ? root.appendArrayElement(path) : root.defineTable(path)
    }

    /// A bare, quoted or dotted key. Whitespace around the dots, and after the key, is skipped.
    private mutating func parseKey() throws(TOMLSyntaxError) -> [KeySegment] {
        var segments: [KeySegment] = []
        repeat {
            scanner.skipWhitespace()
            let position = scanner.position
            let name: String
            switch scanner.current {
            case .quote?, .apostrophe?:
                name = try scanner.lexString(allowMultiline: false)
            case let byte? where byte.isBareKeyCharacter:
                let start = scanner.index
                while scanner.current?.isBareKeyCharacter == true { scanner.index += 1 }
                name = String(decoding: scanner.bytes[start..<scanner.index], as: UTF8.self)
            default:
                throw scanner.error("expected a key, found \(scanner.describeCurrent)")
            }
            segments.append(KeySegment(name: name, position: position))
            scanner.skipWhitespace()
        } while scanner.consume(.dot)
        return segments
    }

    private mutating func parseKeyValue(into table: TableNode) throws(TOMLSyntaxError) {
        let key = try parseKey()
        guard scanner.consume(.equals) else {
            throw scanner.error("expected \"=\" after the key, found \(scanner.describeCurrent)")
        }
        let parent = try table.tableForKeyValue(key)
        scanner.skipWhitespace()
        parent.addValue(try parseValue(depth: parent.depth + 1), for: key[key.count - 1])
    }

    /// `depth` counts the tables and arrays around the value, so that nesting can be bounded.
    private mutating func parseValue(depth: Int) throws(TOMLSyntaxError) -> TOMLValue {
        switch scanner.current {
        case .quote?, .apostrophe?:
            return .string(try scanner.lexString(allowMultiline: true))
        case .openBracket?, .openBrace?:
            guard depth <= TableNode.maximumDepth else {
                throw scanner.error("values are nested more than \(TableNode.maximumDepth) deep")
            }
            return try scanner.current == .openBracket ? parseArray(depth: depth) : parseInlineTable(depth: depth)
        case let byte? where byte.isDecimalDigit || byte == .plus || byte == .minus
            || byte == UInt8(ascii: "i") || byte == UInt8(ascii: "n"):
            return try scanner.lexNumberOrDateTime()
        default:
            if scanner.consume(word: "true") { return .boolean(true) }
            if scanner.consume(word: "false") { return .boolean(false) }
            let word = scanner.index..<scanner.endOfWord(from: scanner.index)
            if scanner.bytes[word].contains(where: \.isASCIILetter) {
                throw scanner.error("expected a value, found \(scanner.unquotedText(word))")
            }
            throw scanner.error("expected a value, found \(scanner.describeCurrent)")
        }
    }

    /// `[ v, v, ]`: newlines and comments may appear between elements, and a trailing comma.
    private mutating func parseArray(depth: Int) throws(TOMLSyntaxError) -> TOMLValue {
        scanner.index += 1
        var elements: [TOMLValue] = []
        while true {
            try scanner.skipWhitespaceCommentsAndNewlines()
            if scanner.consume(.closeBracket) { return .array(elements) }
            elements.append(try parseValue(depth: depth + 1))
            try scanner.skipWhitespaceCommentsAndNewlines()
            if scanner.consume(.closeBracket) { return .array(elements) }
            guard scanner.consume(.comma) else {
                throw scanner.error("expected \",\" or \"]\" in the array, found \(scanner.describeCurrent)")
            }
        }
    }

    /// `{ k = v, k = v }`: on one line (values may still span lines), no trailing comma.
    private mutating func parseInlineTable(depth: Int) throws(TOMLSyntaxError) -> TOMLValue {
        let table = TableNode(origin: .standalone, position: scanner.position, depth: depth)
        scanner.index += 1
        scanner.skipWhitespace()
        if scanner.consume(.closeBrace) { return .table(table.frozen()) }
        while true {
            try rejectLineBreakInInlineTable()
            try parseKeyValue(into: table)
            scanner.skipWhitespace()
            if scanner.consume(.closeBrace) { return .table(table.frozen()) }
            try rejectLineBreakInInlineTable()
            let comma = scanner.mark
            guard scanner.consume(.comma) else {
                throw scanner.error("expected \",\" or \"}\" in the inline table, found \(scanner.describeCurrent)")
            }
            scanner.skipWhitespace()
            if scanner.current == .closeBrace {
                throw scanner.error("a trailing comma is not allowed in an inline table", at: comma)
            }
        }
    }

    private func rejectLineBreakInInlineTable() throws(TOMLSyntaxError) {
        switch scanner.current {
        case .lineFeed?, .carriageReturn?, .hash?:
            throw scanner.error("an inline table must be on a single line")
        default:
            return
        }
    }
}
