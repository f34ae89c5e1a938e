/// A place in a TOML document. Both numbers are 1-based; `column` counts the
/// `Character`s of the line before this place, so it matches what an editor shows.
public struct TOMLPosition: Sendable, Equatable, Hashable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// Why a document was rejected, and where.
public struct TOMLSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var position: TOMLPosition
    public var message: String

    public init(position: TOMLPosition, message: String) {
        self.position = position
        self.message = message
    }

    public var description: String { "line \(position.line), column \(position.column): \(message)" }
}

/// A TOML value.
public enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    case dateTime(TOMLDateTime)
    case array([TOMLValue])
    case table(TOMLTable)

    /// The TOML name of this value's type, for messages like "expected a string, found integer".
    public var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .dateTime: "date-time"
        case .array: "array"
        case .table: "table"
        }
    }

    public var string: String? { if case .string(let value) = self { value } else { nil } }
    public var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
    public var float: Double? { if case .float(let value) = self { value } else { nil } }
    public var boolean: Bool? { if case .boolean(let value) = self { value } else { nil } }
    public var dateTime: TOMLDateTime? { if case .dateTime(let value) = self { value } else { nil } }
    public var array: [TOMLValue]? { if case .array(let value) = self { value } else { nil } }
    public var table: TOMLTable? { if case .table(let value) = self { value } else { nil } }

    /// Values are equal when their content is; unlike `Double`, `nan` equals `nan`,
    /// so that a parsed document compares equal to itself.
    public static func == (lhs: TOMLValue, rhs: TOMLValue) -> Bool {
        switch (lhs, rhs) {
        case let (.string(a), .string(b)): a == b
        case let (.integer(a), .integer(b)): a == b
        case let (.float(a), .float(b)): a == b || (a.isNaN && b.isNaN)
        case let (.boolean(a), .boolean(b)): a == b
        case let (.dateTime(a), .dateTime(b)): a == b
        case let (.array(a), .array(b)): a == b
        case let (.table(a), .table(b)): a == b
        default: false
        }
    }
}

/// A table: the document root, a `[header]` table, an array-of-tables element or an inline table.
/// It remembers where each key was first written so that later checks can point at the source.
public struct TOMLTable: Sendable, Equatable {
    /// The keys in the order they were first written.
    public private(set) var keys: [String] = []
    private var values: [TOMLValue] = []
    private var keyPositions: [TOMLPosition?] = []
    /// Each key's index in the arrays above: one hash lookup per access.
    private var slots: [String: Int] = [:]
    /// Where this table was first written; `nil` for the root and for tables built in code.
    public var position: TOMLPosition?

    public init() {}

    /// For the parser, which has already indexed the keys.
    init(keys: [String], values: [TOMLValue], keyPositions: [TOMLPosition?], slots: [String: Int], position: TOMLPosition?) {
        self.keys = keys
        self.values = values
        self.keyPositions = keyPositions
        self.slots = slots
        self.position = position
    }

    public subscript(key: String) -> TOMLValue? { slots[key].map { values[$0] } }

    /// Where `key` was first written: its key token, the segment of a dotted key, or
    /// the segment of the `[header]` / `[[header]]` that first created it.
    public func position(of key: String) -> TOMLPosition? { slots[key].flatMap { keyPositions[$0] } }

    /// Content equality: the same keys with equal values. Key order and positions are presentation.
    public static func == (lhs: TOMLTable, rhs: TOMLTable) -> Bool {
        lhs.keys.count == rhs.keys.count && lhs.keys.indices.allSatisfy { rhs[lhs.keys[$0]] == lhs.values[$0] }
    }
}

// Literals make expected values in tests and defaults in code easy to write.

extension TOMLTable: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, TOMLValue)...) {
        self.init(pairs: elements)
    }

    fileprivate init(pairs: [(String, TOMLValue)]) {
        for (key, value) in pairs {
            precondition(slots[key] == nil, "duplicate key \"\(key)\" in a table literal")
            slots[key] = keys.count
            keys.append(key)
            values.append(value)
            keyPositions.append(nil)
        }
    }
}

extension TOMLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
    public init(arrayLiteral elements: TOMLValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, TOMLValue)...) { self = .table(TOMLTable(pairs: elements)) }
}
