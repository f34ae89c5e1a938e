// The one text scanner shared by every parser in this module. Kernel interface files are ASCII,
// "\n"-terminated, and written with fixed formats ("%s %llu\n"), so anything else is reported rather
// than guessed at: a parser that tolerated junk would turn a misread file into a plausible number.

/// One line of a file, with its 1-based number for error messages.
struct Line {
    let number: Int
    let text: Substring
}

/// Splits text into lines. The final "\n" is optional (callers and tests may trim it); a blank line is
/// never written by the kernel, so it is an error. Empty text has no lines.
func lines(of text: String, file: String) throws(CgroupParseError) -> [Line] {
    // Unicode scalars, not Characters: Swift treats "\r\n" as one Character, which would hide a "\r".
    var scalars = Substring(text).unicodeScalars
    if scalars.last == "\n" { scalars.removeLast() }
    if scalars.isEmpty { return [] }
    return try scalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { index, scalars throws(CgroupParseError) in
        let line = Line(number: index + 1, text: Substring(scalars))
        if line.text.isEmpty { throw CgroupParseError(file: file, line: line.number, message: "empty line") }
        return line
    }
}

/// Parses a flat-keyed file: one "key value" pair per line, separated by a single space (memory.stat,
/// memory.events, memory.oom_control, cpu.stat, cpuacct.stat, cgroup.events). Keys must be unique.
/// An empty file yields no keys (the root's cpu.stat.local is empty); callers decide what is required.
func flatKeyed(_ text: String, file: String) throws(CgroupParseError) -> FlatKeyedFields {
    // Scrapes parse hundreds of these: well-formed text takes the byte-level path; anything odd
    // goes through the strict one, which names the problem.
    if let fields = FlatKeyedFields(wellFormed: text) { return fields }
    return try strictFlatKeyed(text, file: file)
}

private func strictFlatKeyed(_ text: String, file: String) throws(CgroupParseError) -> FlatKeyedFields {
    var canonical = ""
    var seen: Set<String> = []
    for line in try lines(of: text, file: file) {
        let parts = line.text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, isKey(parts[0]) else {
            throw CgroupParseError(file: file, line: line.number, message: "expected 'key value', got '\(line.text)'")
        }
        let key = String(parts[0])
        let value = try unsignedInteger(parts[1], what: "value of '\(key)'", file: file, line: line.number)
        guard seen.insert(key).inserted else {
            throw CgroupParseError(file: file, line: line.number, message: "duplicate key '\(key)'")
        }
        canonical += "\(key) \(value)\n"
    }
    // What the strict parser accepts and the byte-level one does not is only a different spelling
    // (a lone "\n" for no keys): its canonical form takes the byte-level path.
    guard let fields = FlatKeyedFields(wellFormed: canonical) else {
        throw CgroupParseError(file: file, line: nil, message: "keys that cannot be indexed")
    }
    return fields
}

/// The decimal number at `index` (its digits up to the first other byte), moving `index` past it; nil
/// when there is no digit or the value does not fit in 64 bits. The byte-level paths' one number scanner.
func scanDigits(_ bytes: UnsafeBufferPointer<UInt8>, at index: inout Int) -> (value: UInt64, count: Int)? {
    var value: UInt64 = 0
    let start = index
    while index < bytes.count, case let digit = bytes[index] &- UInt8(ascii: "0"), digit < 10 {
        let (times10, overflowed) = value.multipliedReportingOverflow(by: 10)
        let (sum, carried) = times10.addingReportingOverflow(UInt64(digit))
        guard !overflowed, !carried else { return nil }
        value = sum
        index += 1
    }
    return index > start ? (value, index - start) : nil
}

/// Kernel keys are lower-case identifiers, some with dots ("core_sched.force_idle_usec").
private func isKey(_ text: Substring) -> Bool {
    !text.isEmpty && text.utf8.allSatisfy(isKeyByte)
}

func isKeyByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
         UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."): true
    default: false
    }
}

private func isDigits(_ text: Substring) -> Bool {
    !text.isEmpty && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
}

/// A decimal UInt64 written with digits only. Swift's UInt64(String) alone would accept "+5" and "-0".
func unsignedInteger(_ text: Substring, what: String, file: String, line: Int?) throws(CgroupParseError) -> UInt64 {
    guard !text.isEmpty else {
        throw CgroupParseError(file: file, line: line, message: "missing \(what)")
    }
    guard isDigits(text) else {
        throw CgroupParseError(file: file, line: line, message: "\(what) '\(text)' is not a non-negative integer")
    }
    guard let value = UInt64(text) else {
        throw CgroupParseError(file: file, line: line, message: "\(what) \(text) does not fit in 64 bits")
    }
    return value
}

/// A non-negative fixed-point decimal as the kernel prints PSI averages ("%lu.%02lu"). Plain Double(String)
/// would also accept "nan", "inf", "1e3" and "-1".
func unsignedDecimal(_ text: Substring, what: String, file: String, line: Int?) throws(CgroupParseError) -> Double {
    let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
    guard parts.allSatisfy(isDigits), let value = Double(text) else {
        throw CgroupParseError(file: file, line: line, message: "\(what) '\(text)' is not a non-negative decimal")
    }
    return value
}

/// The file's single line (memory.current, pids.max, ...); an empty file or a second line is an error.
func onlyLine(of text: String, file: String) throws(CgroupParseError) -> Line {
    let all = try lines(of: text, file: file)
    guard let first = all.first else {
        throw CgroupParseError(file: file, line: nil, message: "empty file, expected one value")
    }
    guard all.count == 1 else {
        throw CgroupParseError(file: file, line: 2, message: "expected one line, found \(all.count)")
    }
    return first
}

/// Sum that clamps at UInt64.max: the inputs are kernel counters, and an absurd file must not crash the
/// supervisor that reads it.
func saturatingSum(_ values: [UInt64]) -> UInt64 {
    values.reduce(0) { sum, value in
        let (result, overflow) = sum.addingReportingOverflow(value)
        return overflow ? .max : result
    }
}
