import Testing
@testable import CgroupStats

/// Inputs the kernel never writes. Each must fail, naming the file and line (nil: the file as a whole)
/// and saying what is wrong; a parser that guessed would turn a misread file into a plausible number.
@Suite struct MalformedInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let file: String
        let line: Int?
        /// A fragment the message must contain, so the failure is for the stated reason.
        let says: String
        let parse: @Sendable (String) throws -> Void

        var testDescription: String { name }
    }

    static func memoryStat(_ text: String) -> @Sendable (String) throws -> Void {
        { file in _ = try MemoryStat(parsing: text, file: file, version: .v2) }
    }
    static func integer(_ text: String) -> @Sendable (String) throws -> Void {
        { file in _ = try SingleValue.integer(text, file: file) }
    }
    static func limit(_ text: String) -> @Sendable (String) throws -> Void {
        { file in _ = try SingleValue.limit(text, file: file) }
    }
    static func pressure(_ text: String) -> @Sendable (String) throws -> Void {
        { file in _ = try Pressure(parsing: text, file: file) }
    }
    static func procCgroup(_ text: String) -> @Sendable (String) throws -> Void {
        { file in _ = try ProcCgroup(parsing: text, file: file) }
    }
    static func pids(_ text: String) -> @Sendable (String) throws -> Void {
        { file in _ = try PidList.parse(text, file: file) }
    }
    static let psi = "avg10=0.00 avg60=0.00 avg300=0.00"

    static let cases: [Case] = [
        Case(name: "cgroup.events populated 2", file: "cgroup.events", line: nil, says: "'populated' is 2, not 0 or 1",
             parse: { file in _ = try CgroupEvents(parsing: "populated 2\nfrozen 0\n", file: file) }),
        Case(name: "a pid list line that is no pid", file: "cgroup.procs", line: 2, says: "expected a pid, got 'x12'", parse: pids("12\nx12\n")),
        Case(name: "pid 0", file: "cgroup.procs", line: 1, says: "got '0'", parse: pids("0\n")),
        Case(name: "a negative pid", file: "cgroup.procs", line: 3, says: "got '-1'", parse: pids("1\n2\n-1\n")),
        // Flat-keyed files (one scanner behind memory.stat, memory.events, cpu.stat, cpuacct.stat, ...).
        Case(name: "non-numeric value", file: "memory.stat", line: 2, says: "'x' is not a non-negative integer",
             parse: memoryStat("anon 1\nfile x\n")),
        Case(name: "negative value", file: "memory.stat", line: 1, says: "'-5' is not a non-negative integer",
             parse: memoryStat("anon -5\n")),
        Case(name: "explicit plus sign", file: "memory.stat", line: 1, says: "'+5'", parse: memoryStat("anon +5\n")),
        Case(name: "value beyond UInt64", file: "memory.stat", line: 1, says: "does not fit in 64 bits",
             parse: memoryStat("anon 18446744073709551616\n")),
        Case(name: "key without value", file: "memory.stat", line: 3, says: "expected 'key value'",
             parse: memoryStat("anon 1\nfile 2\nshmem\n")),
        Case(name: "key and space without value", file: "memory.stat", line: 1, says: "missing value of 'anon'",
             parse: memoryStat("anon \n")),
        Case(name: "duplicate key", file: "memory.stat", line: 3, says: "duplicate key 'anon'",
             parse: memoryStat("anon 1\nfile 2\nanon 3\n")),
        Case(name: "unit after the number", file: "memory.stat", line: 1, says: "expected 'key value'",
             parse: memoryStat("anon 5 kB\n")),
        Case(name: "junk glued to the number", file: "memory.stat", line: 1, says: "'5x'", parse: memoryStat("anon 5x\n")),
        Case(name: "decimal value", file: "memory.stat", line: 1, says: "'1.5'", parse: memoryStat("anon 1.5\n")),
        Case(name: "tab separator", file: "memory.stat", line: 1, says: "expected 'key value'", parse: memoryStat("anon\t5\n")),
        Case(name: "two spaces", file: "memory.stat", line: 1, says: "expected 'key value'", parse: memoryStat("anon  5\n")),
        Case(name: "CRLF line ending", file: "memory.stat", line: 1, says: "'5\r'", parse: memoryStat("anon 5\r\nfile 6\r\n")),
        Case(name: "blank line inside", file: "memory.stat", line: 2, says: "empty line", parse: memoryStat("anon 5\n\nfile 6\n")),
        Case(name: "key with a non-key character", file: "memory.stat", line: 1, says: "expected 'key value'",
             parse: memoryStat("an=on 5\n")),
        Case(name: "memory.events with a word value", file: "memory.events", line: 4, says: "'one'",
             parse: { file in _ = try MemoryEvents(parsing: "low 0\nhigh 0\nmax 0\noom one\n", file: file) }),
        Case(name: "oom_control flag as text", file: "memory.oom_control", line: 2, says: "'yes'",
             parse: { file in _ = try MemoryEvents(parsing: "oom_kill_disable 0\nunder_oom yes\n", file: file) }),
        Case(name: "cpu.stat with a value missing", file: "cpu.stat", line: 2, says: "expected 'key value'",
             parse: { file in _ = try CPUStat(parsing: "usage_usec 1\nuser_usec\n", file: file) }),
        Case(name: "cpuacct.stat with a value missing", file: "cpuacct.stat", line: 2, says: "expected 'key value'",
             parse: { file in
                 _ = try CPUStat(parsingCpuacctStat: "user 10\nsystem", file: file, usageNanoseconds: nil, ticksPerSecond: 100)
             }),
        Case(name: "cgroup.events with a negative flag", file: "cgroup.events", line: 1, says: "'-1'",
             parse: { file in _ = try CgroupEvents(parsing: "populated -1\n", file: file) }),

        // Single-value files.
        Case(name: "empty memory.current", file: "memory.current", line: nil, says: "empty file", parse: integer("")),
        Case(name: "memory.current that is only a newline", file: "memory.current", line: nil, says: "empty file", parse: integer("\n")),
        Case(name: "two numbers on the line", file: "memory.current", line: 1, says: "'12 34'", parse: integer("12 34\n")),
        Case(name: "second line", file: "memory.current", line: 2, says: "expected one line", parse: integer("12\n13\n")),
        Case(name: "leading space", file: "pids.current", line: 1, says: "' 3'", parse: integer(" 3\n")),
        Case(name: "single value beyond UInt64", file: "memory.swap.current", line: 1, says: "does not fit in 64 bits",
             parse: integer("99999999999999999999\n")),
        Case(name: "limit spelled out", file: "memory.max", line: 1, says: "'maximum'", parse: limit("maximum\n")),
        Case(name: "limit in upper case", file: "memory.high", line: 1, says: "'MAX'", parse: limit("MAX\n")),
        Case(name: "v1 quota style -1", file: "memory.limit_in_bytes", line: 1, says: "'-1'", parse: limit("-1\n")),
        Case(name: "limit with a blank line after", file: "pids.max", line: 2, says: "empty line", parse: limit("max\n\n")),
        Case(name: "empty limit", file: "memory.max", line: nil, says: "empty file", parse: limit("")),

        // PSI.
        Case(name: "PSI line without total", file: "memory.pressure", line: 1, says: "missing field 'total'",
             parse: pressure("some \(psi)\n")),
        Case(name: "PSI total not a number", file: "memory.pressure", line: 2, says: "'12a'",
             parse: pressure("some \(psi) total=1\nfull \(psi) total=12a\n")),
        Case(name: "PSI average not a number", file: "cpu.pressure", line: 1, says: "avg10 'abc'",
             parse: pressure("some avg10=abc avg60=0.00 avg300=0.00 total=1\n")),
        Case(name: "PSI average nan", file: "cpu.pressure", line: 1, says: "avg60 'nan'",
             parse: pressure("some avg10=0.00 avg60=nan avg300=0.00 total=1\n")),
        Case(name: "PSI average negative", file: "cpu.pressure", line: 1, says: "avg300 '-1.00'",
             parse: pressure("some avg10=0.00 avg60=0.00 avg300=-1.00 total=1\n")),
        Case(name: "PSI average in exponent form", file: "io.pressure", line: 1, says: "avg10 '1e3'",
             parse: pressure("some avg10=1e3 avg60=0.00 avg300=0.00 total=1\n")),
        Case(name: "PSI unknown line kind", file: "io.pressure", line: 2, says: "expected 'some' or 'full'",
             parse: pressure("some \(psi) total=1\npartial \(psi) total=1\n")),
        Case(name: "PSI duplicate line", file: "io.pressure", line: 2, says: "duplicate 'some' line",
             parse: pressure("some \(psi) total=1\nsome \(psi) total=2\n")),
        Case(name: "PSI duplicate field", file: "io.pressure", line: 1, says: "duplicate field 'total'",
             parse: pressure("some \(psi) total=1 total=2\n")),
        Case(name: "PSI field without '='", file: "io.pressure", line: 1, says: "unexpected field 'total'",
             parse: pressure("some \(psi) total\n")),
        Case(name: "PSI only a full line", file: "io.pressure", line: nil, says: "missing 'some' line",
             parse: pressure("full \(psi) total=0\n")),
        Case(name: "PSI empty file", file: "cpu.pressure", line: nil, says: "missing 'some' line", parse: pressure("")),

        // /proc/<pid>/cgroup.
        Case(name: "cgroup line without path", file: "/proc/1/cgroup", line: 2, says: "expected 'id:controllers:path'",
             parse: procCgroup("0::/\n4:memory\n")),
        Case(name: "cgroup hierarchy id not a number", file: "/proc/1/cgroup", line: 1, says: "hierarchy id 'x'",
             parse: procCgroup("x:memory:/\n")),
        Case(name: "cgroup v2 line with controllers", file: "/proc/1/cgroup", line: 1, says: "hierarchy 0 (v2) lists controllers",
             parse: procCgroup("0:memory:/\n")),
        Case(name: "cgroup v1 line without controllers", file: "/proc/1/cgroup", line: 1, says: "lists no controllers",
             parse: procCgroup("4::/\n")),
        Case(name: "cgroup empty controller in list", file: "/proc/1/cgroup", line: 1, says: "empty controller name",
             parse: procCgroup("1:cpu,,cpuacct:/\n")),
        Case(name: "cgroup relative path", file: "/proc/1/cgroup", line: 1, says: "not absolute", parse: procCgroup("0::relative\n")),
        Case(name: "cgroup duplicate hierarchy", file: "/proc/1/cgroup", line: 2, says: "duplicate hierarchy id 4",
             parse: procCgroup("4:memory:/\n4:pids:/\n")),
        Case(name: "cgroup controller in two hierarchies", file: "/proc/1/cgroup", line: 2, says: "controller 'memory'",
             parse: procCgroup("4:memory:/\n5:memory:/\n")),
        Case(name: "cgroup empty file", file: "/proc/1/cgroup", line: nil, says: "empty file", parse: procCgroup("")),

        // The memory-class policy: a required key missing is an error naming the key, never a silent 0.
        Case(name: "v1 classes without total_rss", file: "memory.stat", line: nil, says: "missing key 'total_rss'",
             parse: { file in
                 let stat = try MemoryStat(parsing: "rss 5\ntotal_cache 0\ntotal_shmem 0\n", file: file, version: .v1)
                 _ = try MemoryClasses.v1(stat: stat, usageInBytes: 0, kmemUsageInBytes: nil)
             }),
        Case(name: "v2 classes without inactive_file", file: "memory.stat", line: nil, says: "missing key 'inactive_file'",
             parse: { file in
                 let text = "anon 1\nfile 1\nkernel 1\nshmem 0\nactive_file 1\n"
                 let stat = try MemoryStat(parsing: text, file: file, version: .v2)
                 _ = try MemoryClasses.v2(stat: stat, current: 0, swapCurrent: nil)
             }),
        Case(name: "v2 classes without kernel or kernel_stack", file: "memory.stat", line: nil,
             says: "missing key 'kernel' and its part 'kernel_stack'",
             parse: { file in
                 let text = "anon 1\nfile 1\nshmem 0\nactive_file 1\ninactive_file 0\nslab 1\nsock 0\n"
                 let stat = try MemoryStat(parsing: text, file: file, version: .v2)
                 _ = try MemoryClasses.v2(stat: stat, current: 0, swapCurrent: nil)
             }),
        Case(name: "v1 policy given a v2 stat", file: "memory.stat", line: nil, says: "parsed as cgroup v2, expected v1",
             parse: { file in
                 let stat = try MemoryStat(parsing: "anon 1\n", file: file, version: .v2)
                 _ = try MemoryClasses.v1(stat: stat, usageInBytes: 0, kmemUsageInBytes: nil)
             }),
    ]

    @Test(arguments: cases)
    func fails(_ input: Case) throws {
        let error = try #require(throws: CgroupParseError.self) { try input.parse(input.file) }
        #expect(error.file == input.file)
        #expect(error.line == input.line)
        #expect(error.message.contains(input.says), "message: \(error.message)")
    }
}
