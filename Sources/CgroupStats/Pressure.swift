/// A PSI file (cpu.pressure, memory.pressure, io.pressure):
///
///     some avg10=0.00 avg60=0.00 avg300=0.00 total=123
///     full avg10=0.00 avg60=0.00 avg300=0.00 total=0
///
/// "some": share of time at least one task was stalled on the resource; "full": all non-idle tasks were.
public struct Pressure: Sendable, Equatable {
    public struct Record: Sendable, Equatable {
        /// Percent of wall time stalled, averaged over the last 10, 60 and 300 seconds.
        public let avg10: Double
        public let avg60: Double
        public let avg300: Double
        /// Total stall time since the cgroup was created, as written (microseconds).
        public let totalMicroseconds: UInt64

        public var totalSeconds: Double { Double(totalMicroseconds) / 1e6 }
    }

    public let some: Record
    /// Nil where the kernel writes no "full" line (cpu.pressure before Linux 5.13).
    public let full: Record?

    public init(parsing text: String, file: String) throws(CgroupParseError) {
        var records: [Substring: Record] = [:]
        for line in try lines(of: text, file: file) {
            let tokens = line.text.split(separator: " ", omittingEmptySubsequences: false)
            let kind = tokens[0]
            guard kind == "some" || kind == "full" else {
                throw CgroupParseError(file: file, line: line.number, message: "expected 'some' or 'full', got '\(kind)'")
            }
            guard records[kind] == nil else {
                throw CgroupParseError(file: file, line: line.number, message: "duplicate '\(kind)' line")
            }
            records[kind] = try Self.record(tokens.dropFirst(), file: file, line: line.number)
        }
        guard let some = records["some"] else {
            throw CgroupParseError(file: file, line: nil, message: "missing 'some' line")
        }
        self.some = some
        self.full = records["full"]
    }

    /// Parses "avg10=.. avg60=.. avg300=.. total=..": each exactly once, nothing else.
    private static func record(_ tokens: ArraySlice<Substring>, file: String, line: Int) throws(CgroupParseError) -> Record {
        var values: [Substring: Substring] = [:]
        for token in tokens {
            let pair = token.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, ["avg10", "avg60", "avg300", "total"].contains(pair[0]) else {
                throw CgroupParseError(file: file, line: line, message: "unexpected field '\(token)'")
            }
            guard values.updateValue(pair[1], forKey: pair[0]) == nil else {
                throw CgroupParseError(file: file, line: line, message: "duplicate field '\(pair[0])'")
            }
        }
        func field(_ name: Substring) throws(CgroupParseError) -> Substring {
            guard let value = values[name] else {
                throw CgroupParseError(file: file, line: line, message: "missing field '\(name)'")
            }
            return value
        }
        return Record(
            avg10: try unsignedDecimal(field("avg10"), what: "avg10", file: file, line: line),
            avg60: try unsignedDecimal(field("avg60"), what: "avg60", file: file, line: line),
            avg300: try unsignedDecimal(field("avg300"), what: "avg300", file: file, line: line),
            totalMicroseconds: try unsignedInteger(field("total"), what: "total", file: file, line: line)
        )
    }
}
