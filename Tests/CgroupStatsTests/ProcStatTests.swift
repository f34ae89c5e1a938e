import CgroupStats
import Testing

@Suite struct ProcStatTests {
    // Captured on this host (kernel 6.18): `cat /proc/self/stat`, and /proc/uptime at the same moment.
    static let cat = "31199 (cat) R 31197 31197 7636 0 -1 4194304 102 0 0 0 0 0 0 0 20 0 1 0 2980502 3133440 393 18446744073709551615 94213420818432 94213420838313 140733372633056 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 94213420854320 94213420855936 94213788381184 140733372639942 140733372639962 140733372639962 140733372641259 0\n"

    @Test("starttime is field 22, counted from the last ')' so a command name with spaces and parentheses cannot shift it")
    func startTicks() throws {
        #expect(try ProcStat.startTicks(parsing: Self.cat, file: "stat") == 2_980_502)
        let odd = Self.cat.replacingOccurrences(of: "(cat)", with: "(a) b (c))")
        #expect(try ProcStat.startTicks(parsing: odd, file: "stat") == 2_980_502)
        #expect(throws: CgroupParseError.self) { try ProcStat.startTicks(parsing: "31199 (cat R 1 2", file: "stat") }
        #expect(throws: CgroupParseError.self) { try ProcStat.startTicks(parsing: "31199 (cat) R 1 2 3", file: "stat") }
        #expect(throws: CgroupParseError.self) {
            try ProcStat.startTicks(parsing: Self.cat.replacingOccurrences(of: " 2980502 ", with: " -5 "), file: "stat")
        }
    }

    @Test("uptime is /proc/uptime's first field, in seconds")
    func uptime() throws {
        #expect(try ProcStat.uptimeSeconds(parsing: "29805.03 46878.48\n", file: "uptime") == 29805.03)
        #expect(throws: CgroupParseError.self) { try ProcStat.uptimeSeconds(parsing: "nan 1\n", file: "uptime") }
        #expect(throws: CgroupParseError.self) { try ProcStat.uptimeSeconds(parsing: "", file: "uptime") }
    }
}
