/// What Steward needs of /proc/<pid>/stat: when the process started, in clock ticks after boot
/// (field 22, `starttime`). The command name (field 2) is in parentheses and may itself contain
/// spaces and parentheses, so the fields are counted from the last ')'.
public enum ProcStat {
    public static func startTicks(parsing text: String, file: String) throws(CgroupParseError) -> UInt64 {
        guard let close = text.lastIndex(of: ")") else {
            throw CgroupParseError(file: file, line: 1, message: "no ')' closing the command name")
        }
        // After ") ": state is field 3, so starttime (22) is the 20th.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count >= 20 else {
            throw CgroupParseError(file: file, line: 1, message: "expected at least 22 fields, found \(fields.count + 2)")
        }
        return try unsignedInteger(fields[19], what: "starttime", file: file, line: 1)
    }

    /// /proc/uptime's first field: seconds since boot.
    public static func uptimeSeconds(parsing text: String, file: String) throws(CgroupParseError) -> Double {
        let line = try onlyLine(of: text, file: file)
        guard let first = line.text.split(separator: " ").first else {
            throw CgroupParseError(file: file, line: 1, message: "empty")
        }
        return try unsignedDecimal(first, what: "uptime", file: file, line: 1)
    }
}
