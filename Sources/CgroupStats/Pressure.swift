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
        // Scrapes parse one per service: text exactly as the kernel writes it takes the byte-level
        // path; anything else goes through the strict one below, which names the problem.
        if let pressure = Self.wellFormed(text) {
            self = pressure
            return
        }
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

    private init(some: Record, full: Record?) {
        self.some = some
        self.full = full
    }

    /// "some ...\n" and optionally "full ...\n", each "avg10=A avg60=B avg300=C total=T" with the
    /// averages as digits "." two digits (the kernel's "%lu.%02lu"); nil for anything else.
    private static func wellFormed(_ text: String) -> Pressure? {
        var text = text
        return text.withUTF8 { bytes -> Pressure? in
            var index = 0
            func expect(_ literal: StaticString) -> Bool {
                let count = literal.utf8CodeUnitCount
                guard index + count <= bytes.count else { return false }
                for offset in 0 ..< count where bytes[index + offset] != literal.utf8Start[offset] { return false }
                index += count
                return true
            }
            func digits() -> (value: UInt64, count: Int)? { scanDigits(bytes, at: &index) }
            func average() -> Double? {
                guard let whole = digits(), expect("."), let hundredths = digits(), hundredths.count == 2 else { return nil }
                return Double(whole.value) + Double(hundredths.value) / 100
            }
            func record() -> Record? {
                guard expect(" avg10="), let avg10 = average(), expect(" avg60="), let avg60 = average(),
                      expect(" avg300="), let avg300 = average(), expect(" total="), let total = digits(), expect("\n")
                else { return nil }
                return Record(avg10: avg10, avg60: avg60, avg300: avg300, totalMicroseconds: total.value)
            }
            guard expect("some"), let some = record() else { return nil }
            guard index < bytes.count else { return Pressure(some: some, full: nil) }
            guard expect("full"), let full = record(), index == bytes.count else { return nil }
            return Pressure(some: some, full: full)
        }
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
