import StewardTOML
import Testing

@Suite struct PositionTests {
    private func at(_ line: Int, _ column: Int) -> TOMLPosition { TOMLPosition(line: line, column: column) }

    @Test func keysAndHeaders() throws {
        let root = try TOMLTable(parsing: """
            [metrics]
            listen = "x"
            [services.api]
            command = ["a"]
            """)
        #expect(root.position == nil)
        #expect(root.position(of: "metrics") == at(1, 2))
        #expect(root.position(of: "services") == at(3, 2))
        let metrics = try #require(root["metrics"]?.table)
        #expect(metrics.position == at(1, 2))
        #expect(metrics.position(of: "listen") == at(2, 1))
        let services = try #require(root["services"]?.table)
        #expect(services.position == at(3, 2))
        #expect(services.position(of: "api") == at(3, 11))
        let api = try #require(services["api"]?.table)
        #expect(api.position == at(3, 11))
        #expect(api.position(of: "command") == at(4, 1))
        #expect(api.position(of: "missing") == nil)
    }

    @Test func implicitTableKeepsItsFirstPosition() throws {
        let root = try TOMLTable(parsing: "[a.b]\n\n[a]\nx = 1\n")
        #expect(root.position(of: "a") == at(1, 2))
        #expect(root["a"]?.table?.position == at(1, 2))
        #expect(root["a"]?.table?.position(of: "x") == at(4, 1))
    }

    @Test func dottedKeysAndWhitespace() throws {
        let root = try TOMLTable(parsing: "  site . \"google.com\" .x = true\nsite.b = 1\n")
        #expect(root.position(of: "site") == at(1, 3))
        let site = try #require(root["site"]?.table)
        #expect(site.position == at(1, 3))
        #expect(site.position(of: "google.com") == at(1, 10))
        #expect(site.position(of: "b") == at(2, 6))
        #expect(site["google.com"]?.table?.position(of: "x") == at(1, 24))
    }

    @Test func headersWithQuotedAndSpacedSegments() throws {
        let root = try TOMLTable(parsing: "x = 0\n[ a . 'b c' ]\n")
        #expect(root.position(of: "a") == at(2, 3))
        #expect(root["a"]?.table?.position(of: "b c") == at(2, 7))
    }

    @Test func arraysOfTables() throws {
        let root = try TOMLTable(parsing: """
            # services
            [[svc]]
            name = "a"

            [[svc]]
              name = "b"
            [svc.env]
            K = "v"
            [[svc.port]]
            """)
        #expect(root.position(of: "svc") == at(2, 3))
        let elements = try #require(root["svc"]?.array)
        #expect(elements.count == 2)
        let first = try #require(elements[0].table)
        let second = try #require(elements[1].table)
        #expect(first.position == at(2, 3))
        #expect(first.position(of: "name") == at(3, 1))
        #expect(second.position == at(5, 3))
        #expect(second.position(of: "name") == at(6, 3))
        #expect(second.position(of: "env") == at(7, 6))
        #expect(second["env"]?.table?.position(of: "K") == at(8, 1))
        #expect(second.position(of: "port") == at(9, 7))
        #expect(second["port"]?.array?.first?.table?.position == at(9, 7))
    }

    @Test func inlineTables() throws {
        let root = try TOMLTable(parsing: "t = { a = 1, b.c = 2 }\n")
        let table = try #require(root["t"]?.table)
        #expect(root.position(of: "t") == at(1, 1))
        #expect(table.position == at(1, 5))
        #expect(table.position(of: "a") == at(1, 7))
        #expect(table.position(of: "b") == at(1, 14))
        #expect(table["b"]?.table?.position(of: "c") == at(1, 16))
    }

    @Test func linesAfterMultiLineValuesAndCRLF() throws {
        let root = try TOMLTable(parsing: "a = \"\"\"\none\ntwo\"\"\"\r\nb = [\r\n  1,\r\n]\r\nc = '''x\n'''\nd = 1\n")
        #expect(root.position(of: "a") == at(1, 1))
        #expect(root.position(of: "b") == at(4, 1))
        #expect(root.position(of: "c") == at(7, 1))
        #expect(root.position(of: "d") == at(9, 1))
    }

    @Test func columnsAlongOneLongLineCountOnFromTheLastKey() throws {
        // Columns are counted on from the previous position on the line (keeping long lines linear);
        // the answers must be those of counting from the line's start, non-ASCII keys included.
        let keys = (0 ..< 2000).map { $0 % 7 == 0 ? "\"é\($0)\"" : "k\($0)" }
        let line = "t = { " + keys.map { "\($0) = 1" }.joined(separator: ", ") + " }"
        let table = try #require(try TOMLTable(parsing: "# first line\n" + line + "\n")["t"]?.table)
        var column = "t = { ".count + 1
        for key in keys {
            let name = key.hasPrefix("\"") ? String(key.dropFirst().dropLast()) : key
            #expect(table.position(of: name) == at(2, column), "\(key)")
            column += key.count + ", = 1".count + 1
        }
    }

    @Test func columnsCountCharactersAndSkipTheByteOrderMark() throws {
        let root = try TOMLTable(parsing: "\u{FEFF}a = 1\n\"é\" = 1\n\"👩‍👩‍👧\".b = 1\n")
        #expect(root.position(of: "a") == at(1, 1))
        #expect(root["👩‍👩‍👧"]?.table?.position(of: "b") == at(3, 5))
    }
}
