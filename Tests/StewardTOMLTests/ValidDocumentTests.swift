import StewardTOML
import Testing

@Suite struct ValidDocumentTests {
    static let cases: [ValidCase] = [
        // Document structure
        ValidCase("empty document", "", [:]),
        ValidCase("comment-only document", "# a comment\n   # another\t# with tab\n", [:]),
        ValidCase("blank lines and whitespace", "\n\n \t \n", [:]),
        ValidCase("byte order mark", "\u{FEFF}a = 1\n", ["a": 1]),
        ValidCase("byte order mark only", "\u{FEFF}", [:]),
        ValidCase("U+FEFF inside a comment", "# \u{FEFF}\n", [:]),
        ValidCase(
            "CRLF newlines", "a = 1\r\n# c\r\n[t]\r\nb = \"\"\"\r\nx\r\ny\"\"\"\r\nc = [\r\n1,\r\n]\r\n",
            ["a": 1, "t": ["b": "x\ny", "c": [1]]]),
        ValidCase("no final newline", "a = 1", ["a": 1]),
        ValidCase(
            "comments after values and headers", "a = 1 # one\n[t] # table\nb = 'x'# tight\n",
            ["a": 1, "t": ["b": "x"]]),
        ValidCase("non-ASCII in a comment", "# ünïcødé 🎉\na = true\n", ["a": true]),
        ValidCase("no spaces around =", "a=\"b\"\nc\t=\t1\n", ["a": "b", "c": 1]),
        ValidCase("indented keys and headers", "  a = 1\n  [t]\n    b = 2\n", ["a": 1, "t": ["b": 2]]),

        // Keys
        ValidCase(
            "bare keys", "key = 1\nbare_key = 2\nbare-key = 3\n1234 = 4\n-_- = 5\n",
            ["key": 1, "bare_key": 2, "bare-key": 3, "1234": 4, "-_-": 5]),
        ValidCase(
            "quoted keys", #""127.0.0.1" = 1"# + "\n" + #""character encoding" = 2"# + "\n" + #""ʎǝʞ" = 3"# + "\n"
                + #"'key2' = 4"# + "\n" + #"'quoted "value"' = 5"# + "\n",
            ["127.0.0.1": 1, "character encoding": 2, "ʎǝʞ": 3, "key2": 4, "quoted \"value\"": 5]),
        ValidCase(
            "quoted keys with escapes", #""a\tb" = 1"# + "\n" + #""\u00e9\"\\" = 2"# + "\n",
            ["a\tb": 1, "é\"\\": 2]),
        ValidCase("empty quoted key", #""" = "blank""#, ["": "blank"]),
        ValidCase("empty literal key", "'' = 1", ["": 1]),
        ValidCase("empty keys in dotted keys and headers", "a.'' = 1\n['']\n[\"\".\"\"]\n", ["a": ["": 1], "": ["": [:]]]),
        ValidCase(
            "dotted keys", "name = \"Orange\"\nphysical.color = \"orange\"\nphysical.shape = \"round\"\nsite.\"google.com\" = true\n",
            ["name": "Orange", "physical": ["color": "orange", "shape": "round"], "site": ["google.com": true]]),
        ValidCase(
            "whitespace around dots", "fruit . color = \"yellow\"\nfruit\t.\tflavor = 'banana'\n",
            ["fruit": ["color": "yellow", "flavor": "banana"]]),
        ValidCase("float-looking dotted key", "3.14159 = \"pi\"", ["3": ["14159": "pi"]]),
        ValidCase(
            "dotted keys out of order", "apple.type = \"fruit\"\norange.type = \"fruit\"\napple.skin = \"thin\"\n",
            ["apple": ["type": "fruit", "skin": "thin"], "orange": ["type": "fruit"]]),
        ValidCase("keyword-like keys", "true = 1\ninf = 2\nnan = 3\n", ["true": 1, "inf": 2, "nan": 3]),

        // Basic and literal strings
        ValidCase(
            "basic string escapes", #"s = "\b\t\n\f\r\"\\\u00E9\U0001F600 end""#,
            ["s": "\u{8}\t\n\u{C}\r\"\\é😀 end"]),
        ValidCase("escape of the largest scalar", #"s = "\U0010FFFF""#, ["s": "\u{10FFFF}"]),
        ValidCase("escaped NUL", #"s = "a\u0000b""#, ["s": "a\u{0}b"]),
        ValidCase("tab inside strings", "a = \"x\ty\"\nb = 'x\ty'\n", ["a": "x\ty", "b": "x\ty"]),
        ValidCase("unicode in strings", "s = \"日本語 ✓\"", ["s": "日本語 ✓"]),
        ValidCase("empty strings", "a = \"\"\nb = ''\n", ["a": "", "b": ""]),
        ValidCase(
            "literal strings", #"winpath = 'C:\Users\nodejs\templates'"# + "\n" + #"regex = '<\i\c*\s*>'"# + "\n"
                + #"quoted = 'Tom "Dubs" Preston-Werner'"#,
            ["winpath": #"C:\Users\nodejs\templates"#, "regex": #"<\i\c*\s*>"#, "quoted": #"Tom "Dubs" Preston-Werner"#]),

        // Multi-line strings
        ValidCase("multi-line basic trims first newline", "s = \"\"\"\nRoses\nViolets\"\"\"", ["s": "Roses\nViolets"]),
        ValidCase("multi-line basic without first newline", "s = \"\"\"Roses\n\"\"\"", ["s": "Roses\n"]),
        ValidCase(
            "line-ending backslash",
            "s = \"\"\"\nThe quick brown \\\n\n\n  fox jumps over \\   \n    the lazy dog.\"\"\"",
            ["s": "The quick brown fox jumps over the lazy dog."]),
        ValidCase(
            "line-ending backslash at the start", "s = \"\"\"\\\n       The quick brown \\\n       fox.\\\n       \"\"\"",
            ["s": "The quick brown fox."]),
        ValidCase("one extra quote before the delimiter", #"s = """a"""""#, ["s": "a\""]),
        ValidCase("two extra quotes before the delimiter", #"s = """a""""""#, ["s": "a\"\""]),
        ValidCase(
            "quotes inside multi-line basic",
            #"str4 = """Here are two quotation marks: "". Simple enough.""""# + "\n"
                + #"str5 = """Here are three quotation marks: ""\".""""# + "\n"
                + #"str7 = """"This," she said, "is just a pointless statement."""""#,
            [
                "str4": #"Here are two quotation marks: "". Simple enough."#,
                "str5": #"Here are three quotation marks: """."#,
                "str7": #""This," she said, "is just a pointless statement.""#,
            ]),
        ValidCase("escapes in multi-line basic", #"s = """\tx\u0041\"""""#, ["s": "\txA\""]),
        ValidCase("empty multi-line strings", "a = \"\"\"\"\"\"\nb = ''''''\nc = \"\"\"\n\"\"\"\n", ["a": "", "b": "", "c": ""]),
        ValidCase(
            "multi-line literal",
            "regex2 = '''I [dw]on't need \\d{2} apples'''\nlines = '''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n'''\n",
            [
                "regex2": #"I [dw]on't need \d{2} apples"#,
                "lines": "The first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n",
            ]),
        ValidCase(
            "quotes inside multi-line literal",
            "quot15 = '''Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"'''\napos15 = \"Here are fifteen apostrophes: '''''''''''''''\"\nstr = ''''That,' she said, 'is still pointless.''''\nend = '''a'''''\n",
            [
                "quot15": "Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"",
                "apos15": "Here are fifteen apostrophes: '''''''''''''''",
                "str": "'That,' she said, 'is still pointless.'",
                "end": "a''",
            ]),
        ValidCase("backslash is literal in multi-line literal", "s = '''a\\\n  b'''", ["s": "a\\\n  b"]),

        // Integers
        ValidCase(
            "decimal integers", "a = +99\nb = 42\nc = 0\nd = -17\ne = -0\nf = +0\n",
            ["a": 99, "b": 42, "c": 0, "d": -17, "e": 0, "f": 0]),
        ValidCase(
            "underscores in integers", "a = 1_000\nb = 5_349_221\nc = 53_49_221\nd = 1_2_3_4_5\n",
            ["a": 1000, "b": 5_349_221, "c": 5_349_221, "d": 12345]),
        ValidCase(
            "hexadecimal, octal and binary", "a = 0xDEADBEEF\nb = 0xdeadbeef\nc = 0xdead_beef\nd = 0o01234567\ne = 0o755\nf = 0b11010110\ng = 0x00ff\nh = 0b0\n",
            ["a": 0xDEADBEEF, "b": 0xDEADBEEF, "c": 0xDEADBEEF, "d": 0o1234567, "e": 0o755, "f": 0b11010110, "g": 255, "h": 0]),
        ValidCase(
            "integer limits", "max = 9223372036854775807\nmin = -9223372036854775808\nhex = 0x7FFFFFFFFFFFFFFF\noct = 0o777777777777777777777\n",
            ["max": .integer(.max), "min": .integer(.min), "hex": .integer(.max), "oct": .integer(.max)]),

        // Floats
        ValidCase(
            "fractional floats", "a = +1.0\nb = 3.1415\nc = -0.01\nd = 0.0\n",
            ["a": 1.0, "b": 3.1415, "c": -0.01, "d": 0.0]),
        ValidCase(
            "exponent floats", "a = 5e+22\nb = 1e06\nc = -2E-2\nd = 6.626e-34\ne = 0e0\nf = 1e-0\n",
            ["a": 5e22, "b": 1e6, "c": -2e-2, "d": 6.626e-34, "e": 0.0, "f": 1.0]),
        ValidCase("underscores in floats", "a = 224_617.445_991_228\nb = 1_0e1_0\n", ["a": 224_617.445_991_228, "b": 10e10]),
        ValidCase(
            "special floats", "a = inf\nb = +inf\nc = -inf\nd = nan\ne = +nan\nf = -nan\n",
            ["a": .float(.infinity), "b": .float(.infinity), "c": .float(-.infinity), "d": .float(.nan), "e": .float(.nan), "f": .float(.nan)]),
        ValidCase("float underflow rounds to zero", "a = 1e-400\nb = -1e-400\n", ["a": 0.0, "b": -0.0]),
        ValidCase("signed zero floats", "a = -0.0\nb = +0.0\n", ["a": -0.0, "b": 0.0]),

        // Booleans
        ValidCase("booleans", "t = true\nf = false\n", ["t": true, "f": false]),

        // Date-times
        ValidCase(
            "offset date-times",
            "a = 1979-05-27T07:32:00Z\nb = 1979-05-27T00:32:00-07:00\nc = 1979-05-27T00:32:00.999999-07:00\nd = 2024-01-01T12:00:00+05:30\n",
            [
                "a": dateTime(1979, 5, 27, 7, 32, 0, offset: 0),
                "b": dateTime(1979, 5, 27, 0, 32, 0, offset: -420),
                "c": dateTime(1979, 5, 27, 0, 32, 0, nanosecond: 999_999_000, offset: -420),
                "d": dateTime(2024, 1, 1, 12, 0, 0, offset: 330),
            ]),
        ValidCase(
            "space separator and lower case",
            "a = 1979-05-27 07:32:00Z\nb = 1979-05-27 07:32:00.999999-07:00\nc = 1979-05-27t07:32:00z\n",
            [
                "a": dateTime(1979, 5, 27, 7, 32, 0, offset: 0),
                "b": dateTime(1979, 5, 27, 7, 32, 0, nanosecond: 999_999_000, offset: -420),
                "c": dateTime(1979, 5, 27, 7, 32, 0, offset: 0),
            ]),
        ValidCase(
            "local date-times", "a = 1979-05-27T07:32:00\nb = 1979-05-27T00:32:00.999999\nc = 1979-05-27 07:32:00\n",
            [
                "a": dateTime(1979, 5, 27, 7, 32, 0),
                "b": dateTime(1979, 5, 27, 0, 32, 0, nanosecond: 999_999_000),
                "c": dateTime(1979, 5, 27, 7, 32, 0),
            ]),
        ValidCase(
            "local dates", "a = 1979-05-27\nb = 2000-02-29\nc = 2024-12-31 # a comment\n",
            ["a": date(1979, 5, 27), "b": date(2000, 2, 29), "c": date(2024, 12, 31)]),
        ValidCase(
            "local times", "a = 07:32:00\nb = 00:32:00.999999\nc = 23:59:59.5\n",
            ["a": time(7, 32, 0), "b": time(0, 32, 0, nanosecond: 999_999_000), "c": time(23, 59, 59, nanosecond: 500_000_000)]),
        ValidCase(
            "fraction beyond nanoseconds is truncated", "a = 00:00:00.1234567891\n",
            ["a": time(0, 0, 0, nanosecond: 123_456_789)]),
        ValidCase(
            "extreme dates and offsets", "a = 0000-01-01\nb = 9999-12-31T23:59:59.999999999Z\nc = 2000-01-01T00:00:00-00:00\nd = 1979-05-27T07:32:00+23:59\n",
            [
                "a": date(0, 1, 1), "b": dateTime(9999, 12, 31, 23, 59, 59, nanosecond: 999_999_999, offset: 0),
                "c": dateTime(2000, 1, 1, 0, 0, 0, offset: 0), "d": dateTime(1979, 5, 27, 7, 32, 0, offset: 1439),
            ]),
        ValidCase("leap second", "a = 1990-12-31T23:59:60Z\n", ["a": dateTime(1990, 12, 31, 23, 59, 60, offset: 0)]),
        ValidCase("date-times in an array", "a = [1979-05-27, 07:32:00]\n", ["a": [date(1979, 5, 27), time(7, 32, 0)]]),

        // Arrays
        ValidCase(
            "arrays", "integers = [ 1, 2, 3 ]\ncolors = [ \"red\", \"yellow\", \"green\" ]\nempty = []\nspaced = [ ]\n",
            ["integers": [1, 2, 3], "colors": ["red", "yellow", "green"], "empty": [], "spaced": []]),
        ValidCase(
            "nested and mixed arrays",
            "nested = [ [ 1, 2 ], [3, 4, 5] ]\nmixed = [ [ 1, 2 ], [\"a\", \"b\", \"c\"] ]\nnumbers = [ 0.1, 0.2, 0.5, 1, 2, 5 ]\n",
            ["nested": [[1, 2], [3, 4, 5]], "mixed": [[1, 2], ["a", "b", "c"]], "numbers": [0.1, 0.2, 0.5, 1, 2, 5]]),
        ValidCase(
            "multi-line array with comments and trailing comma", "a = [ # first\n  1, # one\n\n  2 # two\n  , # comma\n  3,\n] # done\nb = [\n]\n",
            ["a": [1, 2, 3], "b": []]),
        ValidCase(
            "array of inline tables", "points = [ { x = 1, y = 2, z = 3 },\n  { x = 7, y = 8, z = 9 } ]\n",
            ["points": [["x": 1, "y": 2, "z": 3], ["x": 7, "y": 8, "z": 9]]]),

        // Inline tables
        ValidCase(
            "inline tables", "name = { first = \"Tom\", last = \"Preston-Werner\" }\npoint = {x=1,y=2}\nempty = {}\nspaced = { }\n",
            ["name": ["first": "Tom", "last": "Preston-Werner"], "point": ["x": 1, "y": 2], "empty": [:], "spaced": [:]]),
        ValidCase(
            "dotted keys in inline tables", "animal = { type.name = \"pug\", type.size = 'small', \"q\".x = 1 }\n",
            ["animal": ["type": ["name": "pug", "size": "small"], "q": ["x": 1]]]),
        ValidCase("nested inline tables", "a = { b = { c = { } }, d = [ { e = 1 } ] }\n", ["a": ["b": ["c": [:]], "d": [["e": 1]]]]),
        ValidCase("multi-line value in an inline table", "a = { b = [\n  1,\n  2,\n], c = \"\"\"x\ny\"\"\" }\n", ["a": ["b": [1, 2], "c": "x\ny"]]),

        // Tables
        ValidCase(
            "tables", "[table-1]\nkey1 = \"some string\"\nkey2 = 123\n\n[table-2]\nkey1 = \"another string\"\nkey2 = 456\n",
            ["table-1": ["key1": "some string", "key2": 123], "table-2": ["key1": "another string", "key2": 456]]),
        ValidCase(
            "quoted and spaced headers", "[dog.\"tater.man\"]\ntype.name = \"pug\"\n[ j . \"ʞ\" . 'l' ]\n[ g .  h  ]\n",
            ["dog": ["tater.man": ["type": ["name": "pug"]]], "j": ["ʞ": ["l": [:]]], "g": ["h": [:]]]),
        ValidCase(
            "implicit super-tables defined later", "[x.y.z.w]\na = 1\n[x]\nb = 2\n[x.y]\nc = 3\n",
            ["x": ["y": ["z": ["w": ["a": 1]], "c": 3], "b": 2]]),
        ValidCase("empty tables", "[a]\n[b.c]\n", ["a": [:], "b": ["c": [:]]]),
        ValidCase(
            "sub-table of a dotted-key table", "[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true\n",
            ["fruit": ["apple": ["color": "red", "taste": ["sweet": true], "texture": ["smooth": true]]]]),
        ValidCase(
            "root dotted keys then a sub-table", "a.b.c = 1\n[a.b.d]\ne = 2\n",
            ["a": ["b": ["c": 1, "d": ["e": 2]]]]),
        ValidCase(
            "dotted keys into a table created by an earlier header",
            "[fruit.apple.texture]\nsmooth = true\n[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n",
            ["fruit": ["apple": ["texture": ["smooth": true], "color": "red", "taste": ["sweet": true]]]]),
        ValidCase(
            "dotted keys through a table implied by a header", "[a.b.c]\nz = 1\n[a]\nb.d = 2\n",
            ["a": ["b": ["c": ["z": 1], "d": 2]]]),

        // Arrays of tables
        ValidCase(
            "array of tables", "[[products]]\nname = \"Hammer\"\nsku = 738594937\n\n[[products]]  # empty table\n\n[[products]]\nname = \"Nail\"\ncolor = \"gray\"\n",
            ["products": [["name": "Hammer", "sku": 738_594_937], [:], ["name": "Nail", "color": "gray"]]]),
        ValidCase(
            "nested arrays of tables",
            """
            [[fruits]]
            name = "apple"

            [fruits.physical]  # subtable
            color = "red"
            shape = "round"

            [[fruits.varieties]]  # nested array of tables
            name = "red delicious"

            [[fruits.varieties]]
            name = "granny smith"

            [[fruits]]
            name = "banana"

            [[fruits.varieties]]
            name = "plantain"
            """,
            [
                "fruits": [
                    [
                        "name": "apple",
                        "physical": ["color": "red", "shape": "round"],
                        "varieties": [["name": "red delicious"], ["name": "granny smith"]],
                    ],
                    ["name": "banana", "varieties": [["name": "plantain"]]],
                ]
            ]),
        ValidCase(
            "array of tables inside a table", "[a]\nx = 1\n[[a.b]]\ny = 1\n[[a.b]]\ny = 2\n[[ a . \"c\" ]]\n",
            ["a": ["x": 1, "b": [["y": 1], ["y": 2]], "c": [[:]]]]),
        ValidCase(
            "a header under an implicit array element", "[[a]]\n[a.b.c]\nd = 1\n[[a]]\n[a.b]\ne = 2\n",
            ["a": [["b": ["c": ["d": 1]]], ["b": ["e": 2]]]]),
        ValidCase(
            "sub-table inside a nested array element", "[[a]]\nb = 1\n[[a.c]]\n[a.c.d]\n[[a]]\n",
            ["a": [["b": 1, "c": [["d": [:]]]], [:]]]),
    ]

    @Test(arguments: cases)
    func parsesToExpectedValue(_ testCase: ValidCase) throws {
        let table = try TOMLTable(parsing: testCase.toml)
        #expect(table == testCase.expected, "\(canonical(table)) != \(canonical(testCase.expected))")
    }

    @Test func deepNestingUpToTheLimit() throws {
        let depth = 256
        let toml = "a = " + String(repeating: "[{b = ", count: depth / 2) + "1" + String(repeating: "}]", count: depth / 2)
        var value = try #require(try TOMLTable(parsing: toml)["a"])
        for _ in 0..<depth / 2 { value = try #require(value.array?.first?.table?["b"]) }
        #expect(value == 1)
    }

    @Test func keysKeepDocumentOrder() throws {
        let table = try TOMLTable(parsing: "z = 1\n[m]\n[a.b]\n[[c]]\ny.x = 1\n")
        #expect(table.keys == ["z", "m", "a", "c"])
        #expect(table["c"]?.array?.first?.table?.keys == ["y"])
    }

    @Test func tableEqualityIgnoresOrderAndPositions() throws {
        let parsed = try TOMLTable(parsing: "\n\nb = 2\na = 1\n")
        #expect(parsed == ["a": 1, "b": 2])
        #expect(parsed != ["a": 1, "b": 3])
        #expect(parsed != ["a": 1])
    }

    @Test func convenienceAccessors() throws {
        let table = try TOMLTable(parsing: "s = 'x'\ni = 1\nf = 1.5\nb = true\nd = 1979-05-27\na = [1]\nt = {}\n")
        #expect(table["s"]?.string == "x")
        #expect(table["i"]?.integer == 1)
        #expect(table["f"]?.float == 1.5)
        #expect(table["b"]?.boolean == true)
        #expect(table["d"]?.dateTime?.date == .init(year: 1979, month: 5, day: 27))
        #expect(table["a"]?.array == [1])
        #expect(table["t"]?.table == [:])
        #expect(table["s"]?.integer == nil)
        #expect(table["missing"] == nil)
        let names = ["s", "i", "f", "b", "d", "a", "t"].map { table[$0]!.typeName }
        #expect(names == ["string", "integer", "float", "boolean", "date-time", "array", "table"])
    }

    @Test(arguments: [
        ("a = 1979-05-27T07:32:00Z", "1979-05-27T07:32:00Z"),
        ("a = 1979-05-27 00:32:00.999999-07:00", "1979-05-27T00:32:00.999999-07:00"),
        ("a = 1979-05-27T00:32:00.5+05:30", "1979-05-27T00:32:00.5+05:30"),
        ("a = 0001-01-01t00:00:00", "0001-01-01T00:00:00"),
        ("a = 1979-05-27", "1979-05-27"),
        ("a = 07:32:00.000", "07:32:00"),
        ("a = 07:32:00.000001", "07:32:00.000001"),
    ])
    func dateTimeDescription(_ toml: String, _ expected: String) throws {
        #expect(try TOMLTable(parsing: toml)["a"]?.dateTime?.description == expected)
    }

    @Test func signOfZeroIsKept() throws {
        let table = try TOMLTable(parsing: "a = -0.0\nb = -nan\n")
        #expect(table["a"]?.float?.sign == .minus)
        #expect(table["b"]?.float?.isNaN == true)
    }

    /// A config of a realistic size, every table and value in place.
    @Test func parsesTenKilobytes() throws {
        var document = "title = \"bench\"\n"
        var index = 0
        while document.utf8.count < 10_000 {
            document += """
                [services.svc\(index)]
                command = ["/usr/bin/svc", "--port", "\(8000 + index)"]
                restart = { policy = "on-failure", delay = 1.5, max = 5 }
                env.LANG = "C.UTF-8"  # comment
                started = 2024-01-01T00:00:00Z

                """
            index += 1
        }
        let services = try #require(try TOMLTable(parsing: document)["services"]?.table)
        #expect(services.keys.count == index)
        let last = try #require(services["svc\(index - 1)"]?.table)
        #expect(last["command"] == ["/usr/bin/svc", "--port", .string("\(8000 + index - 1)")])
        #expect(last["restart"]?.table?["max"] == 5)
        #expect(last["env"]?.table?["LANG"] == "C.UTF-8")
    }
}
