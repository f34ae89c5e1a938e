import StewardTOML
import Testing

/// A document that must parse to `expected`.
struct ValidCase: Sendable, CustomTestStringConvertible {
    var name: String
    var toml: String
    var expected: TOMLTable
    var testDescription: String { name }

    init(_ name: String, _ toml: String, _ expected: TOMLTable) {
        self.name = name
        self.toml = toml
        self.expected = expected
    }
}

/// A document that must be rejected at `line`/`column` with a message containing `message`.
struct InvalidCase: Sendable, CustomTestStringConvertible {
    var name: String
    var toml: String
    var line: Int
    /// nil where the column is not a useful promise.
    var column: Int?
    var message: String
    var testDescription: String { name }

    init(_ name: String, _ toml: String, line: Int, column: Int?, _ message: String) {
        self.name = name
        self.toml = toml
        self.line = line
        self.column = column
        self.message = message
    }
}

// Short builders for expected date-times.

func date(_ year: Int, _ month: Int, _ day: Int) -> TOMLValue {
    .dateTime(TOMLDateTime(date: .init(year: year, month: month, day: day)))
}

func time(_ hour: Int, _ minute: Int, _ second: Int, nanosecond: Int = 0) -> TOMLValue {
    .dateTime(TOMLDateTime(time: .init(hour: hour, minute: minute, second: second, nanosecond: nanosecond)))
}

func dateTime(
    _ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int,
    nanosecond: Int = 0, offset: Int? = nil
) -> TOMLValue {
    .dateTime(
        TOMLDateTime(
            date: .init(year: year, month: month, day: day),
            time: .init(hour: hour, minute: minute, second: second, nanosecond: nanosecond),
            offsetMinutes: offset))
}

/// A canonical, order-independent rendering, for comparing with another parser and
/// for readable failure messages.
func canonical(_ value: TOMLValue) -> String {
    switch value {
    case .string(let string): quotedForCanonical(string)
    case .integer(let integer): "\(integer)"
    case .float(let float): canonical(float)
    case .boolean(let boolean): "\(boolean)"
    case .dateTime(let dateTime): dateTime.description
    case .array(let elements): "[" + elements.map(canonical).joined(separator: ", ") + "]"
    case .table(let table): canonical(table)
    }
}

func canonical(_ table: TOMLTable) -> String {
    "{" + table.keys.sorted().map { quotedForCanonical($0) + ": " + canonical(table[$0]!) }.joined(separator: ", ") + "}"
}

func canonical(_ float: Double) -> String {
    // nan's sign is not observable in TOML; an explicit decimal point keeps floats apart from integers.
    float.isNaN ? "nan" : float.isInfinite ? "\(float)" : "\(float)f"
}

func quotedForCanonical(_ string: String) -> String {
    var result = "\""
    for scalar in string.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F: result += "\\u{\(String(scalar.value, radix: 16))}"
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}
