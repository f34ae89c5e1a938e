/// Lexing of TOML's four string forms: basic `"…"`, literal `'…'`, and their
/// multi-line variants `"""…"""` and `'''…'''`.
extension ByteScanner {
    /// Lexes the string whose opening quote is at the cursor. Keys may not be multi-line.
    mutating func lexString(allowMultiline: Bool) throws(TOMLSyntaxError) -> String {
        let start = mark
        let quote = bytes[index]
        if peek(1) == quote && peek(2) == quote {
            guard allowMultiline else { throw error("a key cannot be a multi-line string") }
            index += 3
            return try lexMultilineString(quote: quote, start: start)
        }
        index += 1
        var content: [UInt8] = []
        while let byte = current {
            switch byte {
            case quote:
                index += 1
                return String(decoding: content, as: UTF8.self)
            case .backslash where quote == .quote:
                try lexEscape(into: &content)
            case .lineFeed, .carriageReturn:
                throw error("unterminated string", at: start)
            default:
                try appendStringByte(byte, to: &content)
            }
        }
        throw error("unterminated string", at: start)
    }

    /// Lexes the body of a multi-line string after its opening delimiter.
    private mutating func lexMultilineString(quote: UInt8, start: Mark) throws(TOMLSyntaxError) -> String {
        // A newline right after the opening delimiter is not part of the content.
        _ = try consumeNewline()
        var content: [UInt8] = []
        while let byte = current {
            switch byte {
            case quote:
                var run = 1
                while peek(run) == quote { run += 1 }
                guard run >= 3 else {
                    content.append(contentsOf: repeatElement(quote, count: run))
                    index += run
                    continue
                }
                // Up to two quotes right before the closing delimiter belong to the content.
                // Any further quote is left for the caller to reject as trailing garbage.
                let contentQuotes = min(run - 3, 2)
                content.append(contentsOf: repeatElement(quote, count: contentQuotes))
                index += contentQuotes + 3
                return String(decoding: content, as: UTF8.self)
            case .backslash where quote == .quote:
                if try !skipLineEndingBackslash() {
                    try lexEscape(into: &content)
                }
            case .lineFeed, .carriageReturn:
                _ = try consumeNewline()
                // CRLF is normalised to LF so that content does not depend on the file's line endings.
                content.append(.lineFeed)
            default:
                try appendStringByte(byte, to: &content)
            }
        }
        throw error("unterminated string", at: start)
    }

    private mutating func appendStringByte(_ byte: UInt8, to content: inout [UInt8]) throws(TOMLSyntaxError) {
        if byte.isControlCharacter {
            throw error("control character \(byte.codePointName) is not allowed in a string")
        }
        content.append(byte)
        index += 1
    }

    /// In a multi-line basic string, a `\` that is the last non-blank character of its
    /// line removes itself and all whitespace and newlines up to the next other character.
    private mutating func skipLineEndingBackslash() throws(TOMLSyntaxError) -> Bool {
        var probe = index + 1
        while probe < bytes.count && (bytes[probe] == .space || bytes[probe] == .tab) { probe += 1 }
        guard probe < bytes.count && (bytes[probe] == .lineFeed || bytes[probe] == .carriageReturn) else {
            return false
        }
        index = probe
        while try consumeNewline() {
            skipWhitespace()
        }
        return true
    }

    /// Lexes the escape sequence whose backslash is at the cursor.
    private mutating func lexEscape(into content: inout [UInt8]) throws(TOMLSyntaxError) {
        let start = mark
        index += 1
        // At the end of the input the caller reports the unterminated string.
        guard let code = current else { return }
        index += 1
        switch code {
        case UInt8(ascii: "b"): content.append(0x08)
        case UInt8(ascii: "t"): content.append(.tab)
        case UInt8(ascii: "n"): content.append(.lineFeed)
        case UInt8(ascii: "f"): content.append(0x0C)
        case UInt8(ascii: "r"): content.append(.carriageReturn)
        case .quote: content.append(.quote)
        case .backslash: content.append(.backslash)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let digitCount = code == UInt8(ascii: "u") ? 4 : 8
            var value: UInt32 = 0
            for _ in 0..<digitCount {
                guard let digit = current?.digitValue(radix: 16) else {
                    let escape = String(decoding: [.backslash, code], as: UTF8.self)
                    throw error("invalid escape: \(escape) needs \(digitCount) hexadecimal digits", at: start)
                }
                value = value << 4 | UInt32(digit)
                index += 1
            }
            // Surrogates and values above U+10FFFF are not Unicode scalar values.
            guard let scalar = Unicode.Scalar(value) else {
                let escape = String(decoding: bytes[start.index..<index], as: UTF8.self)
                throw error("invalid escape \(escape): not a Unicode scalar value", at: start)
            }
            UTF8.encode(scalar) { content.append($0) }
        case 0x21...0x7E:
            throw error("invalid escape \\\(Character(Unicode.Scalar(code)))", at: start)
        default:
            index -= 1
            throw error("invalid escape: \"\\\" followed by \(describeCurrent)", at: start)
        }
    }
}
