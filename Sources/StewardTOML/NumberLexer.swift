/// Lexing of integers and floats, and dispatch to date-times, which also start with digits.
extension ByteScanner {
    /// Lexes the integer, float or date-time at the cursor (which is at a digit, a sign, `i` or `n`).
    mutating func lexNumberOrDateTime() throws(TOMLSyntaxError) -> TOMLValue {
        if startsDate(at: index) || startsTime(at: index) {
            return .dateTime(try lexDateTime())
        }
        return try lexNumber()
    }

    /// The token runs to the first character that cannot be part of a number (`,` `]` `#`,
    /// whitespace…); its grammar is then checked piece by piece so that an error can point
    /// at the offending character. Digits are converted only after the grammar is known good.
    private mutating func lexNumber() throws(TOMLSyntaxError) -> TOMLValue {
        let start = index
        let end = endOfWord(from: start)
        index = end

        var cursor = start
        let isNegative = bytes[cursor] == .minus
        if bytes[cursor] == .plus || isNegative { cursor += 1 }
        let unsigned = bytes[cursor..<end]
        if unsigned.elementsEqual("inf".utf8) { return .float(isNegative ? -.infinity : .infinity) }
        if unsigned.elementsEqual("nan".utf8) { return .float(isNegative ? -.nan : .nan) }
        guard cursor < end, bytes[cursor].isDecimalDigit else {
            throw error("expected a value, found \(unquotedText(start..<end))", at: mark(at: start))
        }

        if end - cursor >= 2, bytes[cursor] == UInt8(ascii: "0"), let radix = Self.radix(prefix: bytes[cursor + 1]) {
            guard cursor == start else {
                throw error("hexadecimal, octal and binary integers cannot have a sign", at: mark(at: start))
            }
            var digits: [UInt8] = []
            cursor = try scanDigits(from: cursor + 2, to: end, radix: radix, into: &digits)
            try expectEndOfNumber(at: cursor, token: start..<end)
            return .integer(try integer(from: digits, radix: radix, isNegative: false, start: start))
        }

        // Decimal: keep the digits (without underscores) as text for Double(_:) in case this is a float.
        var digits: [UInt8] = []
        let integerPartStart = cursor
        cursor = try scanDigits(from: cursor, to: end, radix: 10, into: &digits)
        let integerPartLength = digits.count
        var isFloat = false
        if cursor < end && bytes[cursor] == .dot {
            isFloat = true
            digits.append(.dot)
            cursor = try scanDigits(from: cursor + 1, to: end, radix: 10, into: &digits)
        }
        if cursor < end && (bytes[cursor] == UInt8(ascii: "e") || bytes[cursor] == UInt8(ascii: "E")) {
            isFloat = true
            digits.append(UInt8(ascii: "e"))
            cursor += 1
            if cursor < end && (bytes[cursor] == .plus || bytes[cursor] == .minus) {
                digits.append(bytes[cursor])
                cursor += 1
            }
            cursor = try scanDigits(from: cursor, to: end, radix: 10, into: &digits)
        }
        try expectEndOfNumber(at: cursor, token: start..<end)
        // Only the integer part is barred from leading zeros; the fraction and exponent may have them.
        if bytes[integerPartStart] == UInt8(ascii: "0") && integerPartLength > 1 {
            let kind = isFloat ? "float" : "decimal integer"
            throw error("leading zeros are not allowed in a \(kind)", at: mark(at: integerPartStart))
        }

        guard isFloat else {
            return .integer(try integer(from: digits, radix: 10, isNegative: isNegative, start: start))
        }
        // The grammar is already checked, so the standard library's conversion cannot fail.
        let magnitude = Double(String(decoding: digits, as: UTF8.self))!
        // It rounds a literal too large for a Double to infinity; TOML spells infinity `inf`.
        guard magnitude.isFinite else { throw error("float out of range", at: mark(at: start)) }
        return .float(isNegative ? -magnitude : magnitude)
    }

    private static func radix(prefix: UInt8) -> Int? {
        switch prefix {
        case UInt8(ascii: "x"): 16
        case UInt8(ascii: "o"): 8
        case UInt8(ascii: "b"): 2
        default: nil
        }
    }

    /// Scans one or more digits with single underscores between them, appending the digits
    /// to `digits`; returns the index after the last digit.
    private func scanDigits(
        from first: Int, to end: Int, radix: Int, into digits: inout [UInt8]
    ) throws(TOMLSyntaxError) -> Int {
        var cursor = first
        while cursor < end {
            let byte = bytes[cursor]
            if byte.digitValue(radix: radix) != nil {
                digits.append(byte)
            } else if byte == .underscore {
                let followedByDigit = cursor + 1 < end && bytes[cursor + 1].digitValue(radix: radix) != nil
                guard cursor > first && followedByDigit else {
                    throw error("an underscore must be between two digits", at: mark(at: cursor))
                }
            } else {
                break
            }
            cursor += 1
        }
        guard cursor > first else {
            throw error("expected a digit, found \(describe(at: cursor))", at: mark(at: cursor))
        }
        return cursor
    }

    private func expectEndOfNumber(at cursor: Int, token: Range<Int>) throws(TOMLSyntaxError) {
        guard cursor == token.upperBound else {
            // `10s`, `1GiB`: most likely text meant as a string.
            let hasLetter = bytes[token].contains(where: \.isASCIILetter)
            throw error("invalid character \(describe(at: cursor)) in a number\(hasLetter ? " (text must be quoted: \"\(text(token))\")" : "")", at: mark(at: cursor))
        }
    }

    /// Converts validated digits, rejecting values outside Int64.
    private func integer(
        from digits: [UInt8], radix: Int, isNegative: Bool, start: Int
    ) throws(TOMLSyntaxError) -> Int64 {
        // Accumulate the magnitude unsigned: Int64.min's magnitude does not fit in Int64.
        var magnitude: UInt64 = 0
        for digit in digits {
            let (shifted, overflowed) = magnitude.multipliedReportingOverflow(by: UInt64(radix))
            let (sum, carried) = shifted.addingReportingOverflow(UInt64(digit.digitValue(radix: radix)!))
            guard !overflowed && !carried else { throw error("integer out of range", at: mark(at: start)) }
            magnitude = sum
        }
        let limit = UInt64(Int64.max) + (isNegative ? 1 : 0)
        guard magnitude <= limit else { throw error("integer out of range", at: mark(at: start)) }
        return isNegative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude)
    }
}
