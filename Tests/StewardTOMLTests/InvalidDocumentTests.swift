import StewardTOML
import Testing

@Suite struct InvalidDocumentTests {
    static let cases: [InvalidCase] = [
        // Document structure and comments
        InvalidCase("lone carriage return", "a = 1\rb = 2", line: 1, column: 6, "carriage return must be followed by a line feed"),
        InvalidCase("control character in a comment", "a = 1\n# bell \u{7}\n", line: 2, column: 8, "control character U+0007 is not allowed in a comment"),
        InvalidCase("DEL in a comment", "# \u{7F}", line: 1, column: 3, "control character U+007F"),
        InvalidCase("lone CR in a comment", "# a\rb\n", line: 1, column: 4, "control character U+000D"),
        InvalidCase("NUL in a comment", "a = 1 # x\u{0}y", line: 1, column: 10, "control character U+0000"),
        InvalidCase("byte order mark after the start", "a = 1\n\u{FEFF}b = 2\n", line: 2, column: 1, "expected a key, found \"\u{FEFF}\""),
        InvalidCase("lone carriage return alone", "\r", line: 1, column: 1, "carriage return must be followed by a line feed"),
        InvalidCase("no-break space after a value", "a = 1\u{A0}", line: 1, column: 6, "after the value, found \"\u{A0}\""),
        InvalidCase("two pairs on one line", "a = 1 b = 2", line: 1, column: 7, "expected a newline or end of file after the value, found \"b\""),
        InvalidCase("two strings on one line", "a = \"x\" \"y\"", line: 1, column: 9, "after the value, found '\"'"),
        InvalidCase("text after a header", "[a] b = 1", line: 1, column: 5, "after the table header, found \"b\""),

        // Keys
        InvalidCase("missing key", "= 1", line: 1, column: 1, "expected a key, found \"=\""),
        InvalidCase("missing equals", "a", line: 1, column: 2, "expected \"=\" after the key, found end of file"),
        InvalidCase("missing equals before value", "a 1", line: 1, column: 3, "expected \"=\" after the key, found \"1\""),
        InvalidCase("missing value", "a = ", line: 1, column: 5, "expected a value, found end of file"),
        InvalidCase("value on the next line", "a =\nb = 1", line: 1, column: 4, "expected a value, found a newline"),
        InvalidCase("comment instead of value", "a = # nothing", line: 1, column: 5, "expected a value, found \"#\""),
        InvalidCase("non-ASCII bare key (TOML 1.1 only)", "ʎǝʞ = 1", line: 1, column: 1, "expected a key, found \"ʎ\""),
        InvalidCase("dot at the start of a key", ".a = 1", line: 1, column: 1, "expected a key"),
        InvalidCase("dot at the end of a key", "a. = 1", line: 1, column: 4, "expected a key, found \"=\""),
        InvalidCase("double dot in a key", "a..b = 1", line: 1, column: 3, "expected a key, found \".\""),
        InvalidCase("multi-line string as a key", "\"\"\"a\"\"\" = 1", line: 1, column: 1, "a key cannot be a multi-line string"),
        InvalidCase("newline in a quoted key", "\"a\nb\" = 1", line: 1, column: 1, "unterminated string"),

        // Strings
        InvalidCase("unterminated basic string", "a = \"abc", line: 1, column: 5, "unterminated string"),
        InvalidCase("newline in a basic string", "a = \"abc\ndef\"", line: 1, column: 5, "unterminated string"),
        InvalidCase("unterminated literal string", "a = 'abc\n", line: 1, column: 5, "unterminated string"),
        InvalidCase("unterminated multi-line basic", "x = 1\na = \"\"\"abc\n\ndef", line: 2, column: 5, "unterminated string"),
        InvalidCase("unterminated multi-line literal", "a = '''abc''", line: 1, column: 5, "unterminated string"),
        InvalidCase("invalid escape", "a = \"x\\qy\"", line: 1, column: 7, "invalid escape \\q"),
        InvalidCase("hex escape", "a = \"\\x41\"", line: 1, column: 6, "invalid escape \\x"),
        InvalidCase("TOML 1.1 escape \\e", "a = \"\\e\"", line: 1, column: 6, "invalid escape \\e"),
        InvalidCase("backslash and spaces at the end of the input", "a = \"\"\"\\   ", line: 1, column: 8, "invalid escape"),
        InvalidCase("escaped space", "a = \"a\\ b\"", line: 1, column: 7, "invalid escape: \"\\\" followed by \" \""),
        InvalidCase("short \\u escape", "a = \"\\u12\"", line: 1, column: 6, "\\u needs 4 hexadecimal digits"),
        InvalidCase("short \\U escape", "a = \"\\U0001F60\"", line: 1, column: 6, "\\U needs 8 hexadecimal digits"),
        InvalidCase("surrogate escape", "a = \"\\uD800\"", line: 1, column: 6, "invalid escape \\uD800: not a Unicode scalar value"),
        InvalidCase("escape beyond U+10FFFF", "a = \"\\U00110000\"", line: 1, column: 6, "not a Unicode scalar value"),
        InvalidCase("control character in a basic string", "a = \"x\u{1}y\"", line: 1, column: 7, "control character U+0001 is not allowed in a string"),
        InvalidCase("DEL in a literal string", "a = 'x\u{7F}'", line: 1, column: 7, "control character U+007F"),
        InvalidCase("control character in a multi-line string", "a = \"\"\"\nok\nx\u{8}\"\"\"", line: 3, column: 2, "control character U+0008"),
        InvalidCase("lone CR in a multi-line string", "a = '''x\ry'''", line: 1, column: 9, "carriage return must be followed by a line feed"),
        InvalidCase("escape in a multi-line basic string", "a = \"\"\"\nfine\\z\"\"\"", line: 2, column: 5, "invalid escape \\z"),
        InvalidCase("backslash and space before text", "a = \"\"\"a\\  b\"\"\"", line: 1, column: 9, "invalid escape"),
        InvalidCase("three extra quotes in multi-line basic", "a = \"\"\"a\"\"\"\"\"\"", line: 1, column: 14, "found '\"'"),
        InvalidCase("three extra apostrophes in multi-line literal", "a = '''a''''''", line: 1, column: 14, "found \"'\""),

        // Integers
        InvalidCase("leading zero", "a = 01", line: 1, column: 5, "leading zeros are not allowed in a decimal integer"),
        InvalidCase("signed leading zero", "a = -012", line: 1, column: 6, "leading zeros are not allowed"),
        InvalidCase("double underscore", "a = 1__2", line: 1, column: 6, "an underscore must be between two digits"),
        InvalidCase("trailing underscore", "a = 1_", line: 1, column: 6, "an underscore must be between two digits"),
        InvalidCase("leading underscore", "a = _1", line: 1, column: 5, "expected a value, found \"_\""),
        InvalidCase("underscore after the prefix", "a = 0x_1", line: 1, column: 7, "an underscore must be between two digits"),
        InvalidCase("prefix without digits", "a = 0x", line: 1, column: 7, "expected a digit, found end of file"),
        InvalidCase("invalid hexadecimal digit", "a = 0xG1", line: 1, column: 7, "expected a digit, found \"G\""),
        InvalidCase("upper-case prefix", "a = 0X1F", line: 1, column: 6, "invalid character \"X\" in a number"),
        InvalidCase("signed hexadecimal", "a = +0x10", line: 1, column: 5, "cannot have a sign"),
        InvalidCase("invalid octal digit", "a = 0o78", line: 1, column: 8, "invalid character \"8\" in a number"),
        InvalidCase("invalid binary digit", "a = 0b102", line: 1, column: 9, "invalid character \"2\""),
        InvalidCase("integer above Int64", "a = 9223372036854775808", line: 1, column: 5, "integer out of range"),
        InvalidCase("integer below Int64", "a = -9223372036854775809", line: 1, column: 5, "integer out of range"),
        InvalidCase("huge integer", "a = 123456789012345678901234567890", line: 1, column: 5, "integer out of range"),
        InvalidCase("hexadecimal above Int64", "a = 0x8000000000000000", line: 1, column: 5, "integer out of range"),
        InvalidCase("binary above Int64", "a = 0b1" + String(repeating: "0", count: 63), line: 1, column: 5, "integer out of range"),
        InvalidCase("negative hexadecimal", "a = -0x1", line: 1, column: 5, "cannot have a sign"),
        InvalidCase("sign alone", "a = +", line: 1, column: 5, "expected a value, found \"+\""),
        InvalidCase("signed point", "a = -.5", line: 1, column: 5, "expected a value, found \"-.5\""),
        InvalidCase("double sign", "a = --1", line: 1, column: 5, "expected a value"),
        InvalidCase("minus inside a number", "a = 1-2", line: 1, column: 6, "invalid character \"-\" in a number"),

        // Floats
        InvalidCase("nothing after the point", "a = 1.", line: 1, column: 7, "expected a digit, found end of file"),
        InvalidCase("nothing before the point", "a = .5", line: 1, column: 5, "expected a value, found \".\""),
        InvalidCase("exponent right after the point", "a = 1.e5", line: 1, column: 7, "expected a digit, found \"e\""),
        InvalidCase("empty exponent", "a = 1e", line: 1, column: 7, "expected a digit"),
        InvalidCase("sign-only exponent", "a = 1e+", line: 1, column: 8, "expected a digit"),
        InvalidCase("float with leading zero", "a = 03.14", line: 1, column: 5, "leading zeros are not allowed in a float"),
        InvalidCase("underscore before the point", "a = 1_.5", line: 1, column: 6, "an underscore must be between two digits"),
        InvalidCase("underscore after the point", "a = 1._5", line: 1, column: 7, "an underscore must be between two digits"),
        InvalidCase("two points", "a = 1.2.3", line: 1, column: 8, "invalid character \".\" in a number"),
        InvalidCase("capitalised inf", "a = Inf", line: 1, column: 5, "expected a value, found \"Inf\" (text must be quoted)"),
        InvalidCase("capitalised nan", "a = NaN", line: 1, column: 5, "expected a value"),
        InvalidCase("infinity spelt out", "a = infinity", line: 1, column: 5, "expected a value, found \"infinity\""),
        InvalidCase("inf followed by a digit", "a = +inf1", line: 1, column: 5, "expected a value, found \"+inf1\""),
        InvalidCase("float above Double", "a = 1e400", line: 1, column: 5, "float out of range"),
        InvalidCase("float below -Double.greatestFiniteMagnitude", "a = -1.5e309", line: 1, column: 5, "float out of range"),

        // Booleans
        InvalidCase("unquoted word", "restart = always", line: 1, column: 11, "expected a value, found \"always\" (text must be quoted)"),
        InvalidCase("unit after a number", "timeout = 10s", line: 1, column: 13, "invalid character \"s\" in a number (text must be quoted: \"10s\")"),
        InvalidCase("capitalised boolean", "a = True", line: 1, column: 5, "expected a value, found \"True\" (text must be quoted)"),
        InvalidCase("truncated boolean", "a = fals", line: 1, column: 5, "expected a value, found \"fals\" (text must be quoted)"),
        InvalidCase("boolean with trailing letters", "a = truee", line: 1, column: 9, "found \"e\""),

        // Date-times
        InvalidCase("February 29 in a common year", "a = 1999-02-29", line: 1, column: 5, "invalid date 1999-02-29"),
        InvalidCase("February 29 in a century year", "a = 1900-02-29", line: 1, column: 5, "invalid date"),
        InvalidCase("day 31 in a 30-day month", "a = 2024-04-31", line: 1, column: 5, "invalid date"),
        InvalidCase("day zero", "a = 2024-04-00", line: 1, column: 5, "invalid date"),
        InvalidCase("month 13", "a = 1979-13-01", line: 1, column: 10, "month 13 is out of range 1–12"),
        InvalidCase("one-digit month", "a = 1979-5-27", line: 1, column: 10, "expected a 2-digit month"),
        InvalidCase("hour 24", "a = 1979-05-27T24:00:00", line: 1, column: 16, "hour 24 is out of range"),
        InvalidCase("minute 60", "a = 07:60:00", line: 1, column: 8, "minute 60 is out of range"),
        InvalidCase("second 61", "a = 07:32:61", line: 1, column: 11, "second 61 is out of range"),
        InvalidCase("time without seconds", "a = 07:32", line: 1, column: 10, "seconds are required"),
        InvalidCase("date-time without seconds", "a = 1979-05-27T07:32Z", line: 1, column: 21, "seconds are required"),
        InvalidCase("T without a time", "a = 1979-05-27T", line: 1, column: 16, "expected a 2-digit hour"),
        InvalidCase("point without fraction", "a = 1979-05-27T07:32:00.Z", line: 1, column: 25, "expected a digit after the decimal point"),
        InvalidCase("offset without minutes", "a = 1979-05-27T07:32:00+07", line: 1, column: 27, "expected \":\" in the offset"),
        InvalidCase("offset hour out of range", "a = 1979-05-27T07:32:00+24:00", line: 1, column: 25, "offset hour 24 is out of range"),
        InvalidCase("short offset minute", "a = 1979-05-27T07:32:00+00:0", line: 1, column: 28, "expected a 2-digit offset minute"),
        InvalidCase("three-digit day", "a = 1979-05-027", line: 1, column: 15, "found \"7\""),
        InvalidCase("space and an hour only", "a = 1979-05-27 07", line: 1, column: 16, "after the value, found \"0\""),
        InvalidCase("offset on a local time", "a = 07:32:00Z", line: 1, column: 13, "found \"Z\""),
        InvalidCase("offset on a local date", "a = 1979-05-27Z", line: 1, column: 15, "found \"Z\""),
        InvalidCase("space before the offset", "a = 1979-05-27T07:32:00 Z", line: 1, column: 25, "found \"Z\""),

        // Arrays
        InvalidCase("unterminated array", "a = [1, 2", line: 1, column: 10, "expected \",\" or \"]\" in the array, found end of file"),
        InvalidCase("missing comma", "a = [1 2]", line: 1, column: 8, "expected \",\" or \"]\" in the array, found \"2\""),
        InvalidCase("lone comma", "a = [,]", line: 1, column: 6, "expected a value, found \",\""),
        InvalidCase("double comma", "a = [1,,2]", line: 1, column: 8, "expected a value, found \",\""),
        InvalidCase("unterminated multi-line array", "a = [\n  1,\n  2,\n", line: 4, column: 1, "expected a value, found end of file"),

        // Inline tables
        InvalidCase("trailing comma in an inline table", "a = {b = 1,}", line: 1, column: 11, "a trailing comma is not allowed in an inline table"),
        InvalidCase("newline before the closing brace", "a = {b = 1\n}", line: 1, column: 11, "an inline table must be on a single line"),
        InvalidCase("newline after the opening brace", "a = {\nb = 1}", line: 1, column: 6, "an inline table must be on a single line"),
        InvalidCase("newline after a comma", "a = {b = 1,\nc = 2}", line: 1, column: 12, "an inline table must be on a single line"),
        InvalidCase("missing comma in an inline table", "a = {b = 1 c = 2}", line: 1, column: 12, "expected \",\" or \"}\" in the inline table, found \"c\""),
        InvalidCase("unterminated inline table", "a = {b = 1", line: 1, column: 11, "expected \",\" or \"}\" in the inline table, found end of file"),
        InvalidCase("duplicate key in an inline table", "a = {b = 1, b = 2}", line: 1, column: 13, "duplicate key \"b\" (first defined on line 1)"),
        InvalidCase("dotted key over a value in an inline table", "a = {b = 1, b.c = 2}", line: 1, column: 13, "key \"b\" is already defined as an integer on line 1"),
        InvalidCase("value over a dotted key in an inline table", "a = {b.c = 1, b = 2}", line: 1, column: 15, "duplicate key \"b\""),
        InvalidCase("extending a nested inline table", "a = {b = {c = 1}, b.d = 2}", line: 1, column: 19, "inline table \"b\" cannot be extended"),
        InvalidCase("dotted key into an inline table", "a = {}\na.b = 1", line: 2, column: 1, "inline table \"a\" cannot be extended (defined on line 1)"),
        InvalidCase("header into an inline table", "a = {b = 1}\n[a]", line: 2, column: 2, "inline table \"a\" cannot be extended"),
        InvalidCase("sub-table of an inline table", "[t]\na = {b = 1}\n[t.a.c]", line: 3, column: 4, "inline table \"a\" cannot be extended"),

        // Keys defined twice
        InvalidCase("duplicate key", "a = 1\na = 2", line: 2, column: 1, "duplicate key \"a\" (first defined on line 1)"),
        InvalidCase("duplicate quoted key", "a = 1\n\"a\" = 2", line: 2, column: 1, "duplicate key \"a\""),
        InvalidCase("duplicate empty key", "\"\" = 1\n'' = 2", line: 2, column: 1, "duplicate key \"\""),
        InvalidCase("dotted key over a value", "a = 1\na.b = 2", line: 2, column: 1, "key \"a\" is already defined as an integer on line 1"),
        InvalidCase("duplicate dotted key", "a.b = 1\na.b = 2", line: 2, column: 3, "duplicate key \"b\" (first defined on line 1)"),
        InvalidCase("value over a dotted-key table", "a.b = 1\na = 2", line: 2, column: 1, "duplicate key \"a\""),
        InvalidCase("value over a header-created table", "[a.b]\n[a]\nb = 1", line: 3, column: 1, "duplicate key \"b\" (first defined on line 1)"),
        InvalidCase(
            "duplicate key in a table", "[metrics]\ncommand = 1\n\n   command = 2", line: 4, column: 4, "duplicate key \"command\" (first defined on line 2)"),

        // Tables
        InvalidCase("empty header", "[]", line: 1, column: 2, "expected a key, found \"]\""),
        InvalidCase("unterminated header", "[a", line: 1, column: 3, "expected \"]\" to close the header, found end of file"),
        InvalidCase("newline in a header", "[a\n]", line: 1, column: 3, "expected \"]\" to close the header, found a newline"),
        InvalidCase("dot at the end of a header", "[a.]", line: 1, column: 4, "expected a key, found \"]\""),
        InvalidCase("table defined twice", "[a]\nx = 1\n[a]", line: 3, column: 2, "table [a] is already defined on line 1"),
        InvalidCase("sub-table defined twice", "[a.b]\n[a]\n[a.b]", line: 3, column: 4, "table [a.b] is already defined on line 1"),
        InvalidCase("implicit table defined twice", "[a.b.c]\n[a.b]\n[a.b]", line: 3, column: 4, "table [a.b] is already defined on line 2"),
        InvalidCase("header over a value", "a = 1\n[a]", line: 2, column: 2, "key \"a\" is already defined as an integer on line 1"),
        InvalidCase("header through a value", "[a]\nb = 1\n[a.b.c]", line: 3, column: 4, "key \"b\" is already defined as an integer on line 2"),
        InvalidCase(
            "header over a dotted-key table", "[fruit]\napple.color = \"red\"\n[fruit.apple]", line: 3, column: 8,
            "table [fruit.apple] cannot be defined by a header: it was defined by dotted keys on line 2"),
        InvalidCase(
            "header over a nested dotted-key table", "[fruit]\napple.taste.sweet = true\n[fruit.apple.taste]", line: 3, column: 14,
            "defined by dotted keys on line 2"),
        InvalidCase("header over a root dotted-key table", "a.b = 1\n[a]", line: 2, column: 2, "defined by dotted keys on line 1"),
        InvalidCase(
            "header over an implicit table that dotted keys defined", "[a.b.c]\n[a]\nb.d = 1\n[a.b]", line: 4, column: 4,
            "table [a.b] cannot be defined by a header: it was defined by dotted keys on line 3"),
        InvalidCase(
            "header over an implicit table that dotted keys went through", "[a.b.c]\n[a]\nb.d.e = 1\n[a.b]\nd.f = 2", line: 4,
            column: 4, "it was defined by dotted keys on line 3"),
        InvalidCase(
            "dotted keys into a header table", "[a.b.c]\nz = 9\n[a]\nb.c.t = 1", line: 4, column: 3,
            "cannot add to table \"c\" with dotted keys: it is defined by a header on line 1"),
        InvalidCase(
            "dotted keys deep into a header table", "[a.b.c.d]\nz = 9\n[a]\nb.c.d.k.t = 1", line: 4, column: 5,
            "cannot add to table \"d\" with dotted keys"),
        InvalidCase("quoted header defined twice", "[\"a b\".c]\n[\"a b\".c]", line: 2, column: 8, "table [\"a b\".c] is already defined"),

        // Arrays of tables
        InvalidCase("appending to a static array", "a = []\n[[a]]", line: 2, column: 3, "cannot append to static array \"a\" (defined on line 1)"),
        InvalidCase("appending to an array of inline tables", "a = [{b = 1}]\n[[a]]", line: 2, column: 3, "cannot append to static array"),
        InvalidCase("sub-table of a static array", "a = [{b = 1}]\n[a.c]", line: 2, column: 2, "key \"a\" is already defined as an array on line 1"),
        InvalidCase("table after an array of tables", "[[a]]\n[a]", line: 2, column: 2, "table [a] conflicts with the array of tables defined on line 1"),
        InvalidCase("array of tables after a table", "[a]\n[[a]]", line: 2, column: 3, "array of tables [[a]] conflicts with the table defined on line 1"),
        InvalidCase("array of tables over an implicit table", "[a.b]\n[[a]]", line: 2, column: 3, "conflicts with the table defined on line 1"),
        InvalidCase("array of tables over a value", "a = 1\n[[a]]", line: 2, column: 3, "key \"a\" is already defined as an integer"),
        InvalidCase("sub-table defined twice in one element", "[[a]]\n[a.b]\n[a.b]", line: 3, column: 4, "table [a.b] is already defined on line 2"),
        InvalidCase("dotted keys into an array of tables", "[[a.b]]\n[a]\nb.c = 1", line: 3, column: 1, "cannot add to array of tables \"b\" with dotted keys"),
        InvalidCase("unclosed array-of-tables header", "[[a]", line: 1, column: 5, "expected \"]]\" to close the header, found end of file"),
        InvalidCase("separated closing brackets", "[[a] ]", line: 1, column: 5, "expected \"]]\" to close the header, found \" \""),
        InvalidCase("separated opening brackets", "[ [a]]", line: 1, column: 3, "expected a key, found \"[\""),
    ]

    @Test(arguments: cases)
    func rejectsWithPositionAndMessage(_ testCase: InvalidCase) {
        #expect {
            try TOMLTable(parsing: testCase.toml)
        } throws: { error in
            guard let error = error as? TOMLSyntaxError else { return false }
            let matches = error.position.line == testCase.line
                && (testCase.column == nil || error.position.column == testCase.column)
                && error.message.contains(testCase.message)
            if !matches { Issue.record("got: \(error)") }
            return matches
        }
    }

    /// Not a TOML rule but a guard for the stack: nesting beyond 256 levels is refused.
    /// (toml++ refuses the same for arrays and inline tables but not for headers, so these
    /// documents are kept out of the differential tables.)
    @Test func nestingIsBounded() {
        let arrays = "a = " + String(repeating: "[", count: 257) + String(repeating: "]", count: 257)
        #expect(throws: TOMLSyntaxError(position: .init(line: 1, column: 261), message: "values are nested more than 256 deep")) {
            try TOMLTable(parsing: arrays)
        }
        let header = "[" + Array(repeating: "a", count: 257).joined(separator: ".") + "]"
        #expect(throws: TOMLSyntaxError(position: .init(line: 1, column: 514), message: "tables are nested more than 256 deep")) {
            try TOMLTable(parsing: header)
        }
        let dotted = "x = 1\n" + Array(repeating: "a", count: 258).joined(separator: ".") + " = 1"
        #expect(throws: TOMLSyntaxError(position: .init(line: 2, column: 513), message: "tables are nested more than 256 deep")) {
            try TOMLTable(parsing: dotted)
        }
    }

    @Test func descriptionNamesLineAndColumn() {
        let toml = "[s]\ncommand = 1\n\n        command = 2\n"
        #expect(throws: TOMLSyntaxError(position: .init(line: 4, column: 9), message: "duplicate key \"command\" (first defined on line 2)")) {
            try TOMLTable(parsing: toml)
        }
        let error = TOMLSyntaxError(position: .init(line: 4, column: 9), message: "duplicate key \"command\" (first defined on line 2)")
        #expect(error.description == "line 4, column 9: duplicate key \"command\" (first defined on line 2)")
    }

    @Test func columnsCountCharacters() {
        // "é" is two UTF-8 bytes and "👩‍👩‍👧" is one Character of many scalars: both count as one column.
        #expect(throws: TOMLSyntaxError(position: .init(line: 1, column: 10), message: "expected a newline or end of file after the value, found \"x\"")) {
            try TOMLTable(parsing: "a = \"é👩‍👩‍👧\" x")
        }
    }
}
