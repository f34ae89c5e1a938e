/// A limit file's value: "max" (no limit) or a number (bytes for memory.*, a count for pids.max).
public enum Limit: Sendable, Equatable {
    case max
    case bytes(UInt64)
}

/// Files holding one value on one line: memory.current, memory.swap.current, memory.usage_in_bytes,
/// memory.kmem.usage_in_bytes, cpuacct.usage, pids.current; limits such as memory.max, memory.high,
/// pids.max and v1 memory.limit_in_bytes.
public enum SingleValue {
    /// v1 has no "max": an unlimited memory.limit_in_bytes reads as PAGE_COUNTER_MAX pages in bytes
    /// (9223372036854771712 with 4 KiB pages). Anything this large is no real limit on any page size.
    public static let unlimitedThreshold: UInt64 = 1 << 62

    /// The file's one non-negative integer.
    public static func integer(_ text: String, file: String) throws(CgroupParseError) -> UInt64 {
        // Scrapes and the memory guard read several of these per service: digits and "\n" take the
        // byte-level path; anything else goes through the strict one, which names the problem.
        if let value = wellFormedInteger(text) { return value }
        let line = try onlyLine(of: text, file: file)
        return try unsignedInteger(line.text, what: "value", file: file, line: line.number)
    }

    /// "max", or an integer where values ≥ `unlimitedThreshold` also mean no limit.
    public static func limit(_ text: String, file: String) throws(CgroupParseError) -> Limit {
        let line = try onlyLine(of: text, file: file)
        if line.text == "max" { return .max }
        let value = try unsignedInteger(line.text, what: "limit", file: file, line: line.number)
        return value >= unlimitedThreshold ? .max : .bytes(value)
    }
}

/// Digits and an optional final "\n" that fit in 64 bits, or nil.
private func wellFormedInteger(_ text: String) -> UInt64? {
    var text = text
    return text.withUTF8 { bytes -> UInt64? in
        var index = 0
        guard let number = scanDigits(bytes, at: &index) else { return nil }
        return index == bytes.count || index == bytes.count - 1 && bytes[index] == UInt8(ascii: "\n") ? number.value : nil
    }
}
