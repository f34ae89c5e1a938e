import StewardTOML
import Testing
import TOMLKit

/// Every document of the valid and invalid tables is also given to toml++ (through TOMLKit):
/// both parsers must accept it with the same content, or both must reject it.
@Suite struct DifferentialTests {
    /// Documents where toml++ 3.4 and TOML 1.0 genuinely disagree; StewardTOML keeps the spec's
    /// behaviour. Each is still checked to disagree, so the list cannot go stale silently.
    static let knownDisagreements: [String: String] = [
        "leap second": "toml++ rejects second 60; TOML 1.0 takes RFC 3339's times, which allow a leap second",
        "header over an implicit table that dotted keys went through":
            "toml++ lets [a.b] define b after `b.d.e = 1` under [a] defined it (it rejects `b.d = 1`); TOML forbids both",
        "escaped NUL": "TOMLKit reads strings back with String(cString:), which stops at U+0000 (TOMLKit, not toml++)",
        "NUL in a comment": "TOMLKit passes the document as a C string, so toml++ never sees past the NUL (TOMLKit, not toml++)",
    ]

    @Test(arguments: ValidDocumentTests.cases)
    func validDocumentsAgree(_ testCase: ValidCase) throws {
        let ours = canonical(try StewardTOML.TOMLTable(parsing: testCase.toml))
        let theirs = Result { canonicalForm(ofTOMLKit: try TOMLKit.TOMLTable(string: testCase.toml)) }
        if let reason = Self.knownDisagreements[testCase.name] {
            #expect((try? theirs.get()) != ours, "toml++ now agrees (\(reason)); remove it from knownDisagreements")
            return
        }
        switch theirs {
        case .success(let theirs): #expect(ours == theirs)
        case .failure(let error): Issue.record("toml++ rejects it: \(error)")
        }
    }

    @Test(arguments: InvalidDocumentTests.cases)
    func invalidDocumentsAgree(_ testCase: InvalidCase) {
        let theirs = Result { canonicalForm(ofTOMLKit: try TOMLKit.TOMLTable(string: testCase.toml)) }
        if let reason = Self.knownDisagreements[testCase.name] {
            #expect(throws: Never.self, "toml++ now rejects it too (\(reason)); remove it from knownDisagreements") {
                try theirs.get()
            }
            return
        }
        if case .success(let content) = theirs {
            Issue.record("toml++ accepts it as \(content)")
        }
    }

    private func canonicalForm(ofTOMLKit table: TOMLKit.TOMLTable) -> String {
        let entries = table.keys.sorted().map { quotedForCanonical($0) + ": " + canonicalForm(ofTOMLKit: table[$0]!) }
        return "{" + entries.joined(separator: ", ") + "}"
    }

    private func canonicalForm(ofTOMLKit value: any TOMLValueConvertible) -> String {
        switch value.type {
        case .string: return quotedForCanonical(value.string!)
        case .int: return "\(value.int!)"
        case .double: return canonical(value.double!)
        case .bool: return "\(value.bool!)"
        case .date: return TOMLDateTime(date: localDate(value.date!)).description
        case .time: return TOMLDateTime(time: localTime(value.time!)).description
        case .dateTime:
            let dateTime = value.dateTime!
            return TOMLDateTime(date: localDate(dateTime.date), time: localTime(dateTime.time), offsetMinutes: dateTime.offset?.offset)
                .description
        case .array: return "[" + value.array!.map { canonicalForm(ofTOMLKit: $0) }.joined(separator: ", ") + "]"
        case .table: return canonicalForm(ofTOMLKit: value.table!)
        }
    }

    private func localDate(_ date: TOMLDate) -> StewardTOML.TOMLDateTime.LocalDate {
        .init(year: date.year, month: date.month, day: date.day)
    }

    private func localTime(_ time: TOMLTime) -> StewardTOML.TOMLDateTime.LocalTime {
        .init(hour: time.hour, minute: time.minute, second: time.second, nanosecond: time.nanoSecond)
    }
}
