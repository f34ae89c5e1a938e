/// Lexing of the four date-time kinds (RFC 3339 as profiled by TOML 1.0).
extension ByteScanner {
    /// `YYYY-` starts a date.
    func startsDate(at start: Int) -> Bool {
        start + 4 < bytes.count && bytes[start..<start + 4].allSatisfy(\.isDecimalDigit) && bytes[start + 4] == .minus
    }

    /// `HH:` starts a time.
    func startsTime(at start: Int) -> Bool {
        start + 2 < bytes.count && bytes[start].isDecimalDigit && bytes[start + 1].isDecimalDigit
            && bytes[start + 2] == .colon
    }

    mutating func lexDateTime() throws(TOMLSyntaxError) -> TOMLDateTime {
        var result = TOMLDateTime()
        if startsDate(at: index) {
            let start = mark
            let year = try lexField(digits: 4, "year")
            try expect(.minus, "in the date")
            let month = try lexField(digits: 2, "month", range: 1...12)
            try expect(.minus, "in the date")
            let day = try lexField(digits: 2, "day")
            guard TOMLDateTime.isValid(year: year, month: month, day: day) else {
                let text = String(decoding: bytes[start.index..<index], as: UTF8.self)
                throw error("invalid date \(text): no such day in that month", at: start)
            }
            result.date = .init(year: year, month: month, day: day)
            // A time may follow after `T`, `t` or a single space; after a space only if a time really
            // starts there, since a local date may be followed by whitespace and a comment.
            switch current {
            case UInt8(ascii: "T"), UInt8(ascii: "t"): index += 1
            case .space where startsTime(at: index + 1): index += 1
            default: return result
            }
        }
        result.time = try lexTime()
        if result.date != nil {
            result.offsetMinutes = try lexOffset()
        }
        return result
    }

    private mutating func lexTime() throws(TOMLSyntaxError) -> TOMLDateTime.LocalTime {
        let hour = try lexField(digits: 2, "hour", range: 0...23)
        try expect(.colon, "after the hour")
        let minute = try lexField(digits: 2, "minute", range: 0...59)
        try expect(.colon, "and seconds after the minute (seconds are required)")
        let second = try lexField(digits: 2, "second", range: 0...60)
        var nanosecond = 0
        if consume(.dot) {
            guard current?.isDecimalDigit == true else {
                throw error("expected a digit after the decimal point, found \(describeCurrent)")
            }
            // Digits past the ninth add nothing once the scale reaches 0: they are truncated.
            var scale = 100_000_000
            while let byte = current, byte.isDecimalDigit {
                nanosecond += Int(byte - UInt8(ascii: "0")) * scale
                scale /= 10
                index += 1
            }
        }
        return .init(hour: hour, minute: minute, second: second, nanosecond: nanosecond)
    }

    /// `Z`, `z`, `+HH:MM` or `-HH:MM` in minutes, or nil for a local date-time.
    private mutating func lexOffset() throws(TOMLSyntaxError) -> Int? {
        switch current {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
            return 0
        case .plus, .minus:
            let sign = current == .minus ? -1 : 1
            index += 1
            let hours = try lexField(digits: 2, "offset hour", range: 0...23)
            try expect(.colon, "in the offset")
            let minutes = try lexField(digits: 2, "offset minute", range: 0...59)
            return sign * (hours * 60 + minutes)
        default:
            return nil
        }
    }

    /// Reads a fixed number of digits, checking the value's range if one is given.
    private mutating func lexField(
        digits count: Int, _ name: String, range: ClosedRange<Int>? = nil
    ) throws(TOMLSyntaxError) -> Int {
        let start = mark
        var value = 0
        for _ in 0..<count {
            guard let byte = current, byte.isDecimalDigit else {
                // Point at the field; name what is there instead unless it is merely too short.
                let found = index == start.index ? ", found \(describeCurrent)" : ""
                throw error("expected a \(count)-digit \(name)\(found)", at: start)
            }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            index += 1
        }
        if let range, !range.contains(value) {
            throw error("\(name) \(value) is out of range \(range.lowerBound)–\(range.upperBound)", at: start)
        }
        return value
    }

    private mutating func expect(_ separator: UInt8, _ context: String) throws(TOMLSyntaxError) {
        guard consume(separator) else {
            throw error("expected \"\(Character(Unicode.Scalar(separator)))\" \(context), found \(describeCurrent)")
        }
    }
}
