/// A cursor over a document's UTF-8 bytes that tracks the current line, so that a
/// line and column can be produced for any token on it.
///
/// Swift strings are always valid UTF-8, so the bytes need no validation; every
/// structural character of TOML is ASCII, so scanning byte by byte is safe.
struct ByteScanner {
    /// A saved location; turned into a line and column only when one is needed.
    struct Mark {
        var index: Int
        var line: Int
        var lineStart: Int
    }

    let bytes: [UInt8]
    var index: Int
    private(set) var line = 1
    private(set) var lineStart: Int

    init(_ text: String) {
        bytes = Array(text.utf8)
        // A byte order mark may open the document; it is not part of line 1's columns.
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        index = start
        lineStart = start
    }

    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    func peek(_ offset: Int) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    /// Consumes `byte` if it is next.
    mutating func consume(_ byte: UInt8) -> Bool {
        guard current == byte else { return false }
        index += 1
        return true
    }

    /// Consumes `word` (ASCII) if it comes next.
    mutating func consume(word: String) -> Bool {
        guard bytes[index...].starts(with: word.utf8) else { return false }
        index += word.utf8.count
        return true
    }

    var mark: Mark { Mark(index: index, line: line, lineStart: lineStart) }

    /// A mark at `index` on the current line.
    func mark(at index: Int) -> Mark { Mark(index: index, line: line, lineStart: lineStart) }

    /// The column of the last position asked for. Positions come in document order, so counting
    /// on from there costs the bytes between two tokens, not the whole line each time (90,000 keys
    /// of an inline table on one line were quadratic).
    private let lastColumn = ColumnMemo()

    private final class ColumnMemo {
        var lineStart = -1
        var index = -1
        var column = 0
    }

    func position(of mark: Mark) -> TOMLPosition {
        let memo = lastColumn
        let countsOn = memo.lineStart == mark.lineStart && memo.index <= mark.index
        let from = countsOn ? memo.index : mark.lineStart
        let before = bytes[from..<mark.index]
        // Columns count Characters; in the usual all-ASCII line that is one per byte. Marks sit at
        // token boundaries, which are never inside a Character.
        let column = (countsOn ? memo.column : 0)
            + (before.allSatisfy { $0 < 0x80 } ? before.count : String(decoding: before, as: UTF8.self).count)
        (memo.lineStart, memo.index, memo.column) = (mark.lineStart, mark.index, column)
        return TOMLPosition(line: mark.line, column: column + 1)
    }

    var position: TOMLPosition { position(of: mark) }

    func error(_ message: String, at mark: Mark? = nil) -> TOMLSyntaxError {
        TOMLSyntaxError(position: position(of: mark ?? self.mark), message: message)
    }

    // MARK: Whitespace, newlines and comments

    mutating func skipWhitespace() {
        while let byte = current, byte == .space || byte == .tab { index += 1 }
    }

    /// Consumes an LF or CRLF newline if one is next; a CR on its own is an error.
    mutating func consumeNewline() throws(TOMLSyntaxError) -> Bool {
        switch current {
        case .lineFeed:
            index += 1
        case .carriageReturn:
            guard peek(1) == .lineFeed else { throw error("a carriage return must be followed by a line feed") }
            index += 2
        default:
            return false
        }
        line += 1
        lineStart = index
        return true
    }

    /// Consumes a `#` comment up to (not including) the end of its line.
    mutating func skipComment() throws(TOMLSyntaxError) {
        guard current == .hash else { return }
        index += 1
        while let byte = current, byte != .lineFeed {
            // CR is allowed only as part of the CRLF that ends the comment.
            if byte == .carriageReturn && peek(1) == .lineFeed { return }
            if byte.isControlCharacter {
                throw error("control character \(byte.codePointName) is not allowed in a comment")
            }
            index += 1
        }
    }

    /// Skips whitespace, comments and newlines, as allowed between array elements.
    mutating func skipWhitespaceCommentsAndNewlines() throws(TOMLSyntaxError) {
        repeat {
            skipWhitespace()
            try skipComment()
        } while try consumeNewline()
    }

    // MARK: Describing what was found

    /// The bytes of `range` as text.
    func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    /// The end of the unquoted word at `start`, as far as it could be a key, a number or a boolean.
    func endOfWord(from start: Int) -> Int {
        var end = start
        while end < bytes.count, bytes[end].isBareKeyCharacter || bytes[end] == .plus || bytes[end] == .dot { end += 1 }
        return end
    }

    /// What a value-less word most likely is: text without its quotes (`restart = always`).
    func unquotedText(_ word: Range<Int>) -> String {
        let found = "\"" + text(word) + "\""
        return bytes[word].contains(where: \.isASCIILetter) ? found + " (text must be quoted)" : found
    }

    /// The character at the cursor, for messages like `found "x"`.
    var describeCurrent: String { describe(at: index) }

    /// The character at `index`, for messages like `found "x"`.
    func describe(at index: Int) -> String {
        guard index < bytes.count else { return "end of file" }
        let byte = bytes[index]
        if byte == .lineFeed || byte == .carriageReturn { return "a newline" }
        if byte.isControlCharacter { return byte.codePointName }
        if byte == .quote { return "'\"'" }
        // A lead byte tells how long its UTF-8 sequence is.
        let length = byte < 0x80 ? 1 : byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4
        let end = min(index + length, bytes.count)
        return "\"" + String(decoding: bytes[index..<end], as: UTF8.self) + "\""
    }
}

extension UInt8 {
    static let tab = UInt8(ascii: "\t")
    static let lineFeed = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let quote = UInt8(ascii: "\"")
    static let apostrophe = UInt8(ascii: "'")
    static let backslash = UInt8(ascii: "\\")
    static let hash = UInt8(ascii: "#")
    static let plus = UInt8(ascii: "+")
    static let minus = UInt8(ascii: "-")
    static let dot = UInt8(ascii: ".")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let underscore = UInt8(ascii: "_")
    static let equals = UInt8(ascii: "=")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")

    /// U+0000–U+001F except tab, and U+007F: not allowed in strings or comments.
    var isControlCharacter: Bool { (self < 0x20 && self != .tab) || self == 0x7F }

    /// "U+0007": how a control character is named in messages.
    var codePointName: String {
        let hex = String(self, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: 4 - hex.count) + hex
    }

    var isDecimalDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }

    var isASCIILetter: Bool { (self | 0x20) >= UInt8(ascii: "a") && (self | 0x20) <= UInt8(ascii: "z") }

    /// A-Z a-z 0-9 _ -
    var isBareKeyCharacter: Bool {
        switch self {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), .underscore, .minus:
            true
        default:
            false
        }
    }

    /// The value of this byte as a digit in `radix` (2, 8, 10 or 16), if it is one.
    func digitValue(radix: Int) -> Int? {
        let value: Int
        switch self {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(self - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(self - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(self - UInt8(ascii: "A")) + 10
        default: return nil
        }
        return value < radix ? value : nil
    }
}
