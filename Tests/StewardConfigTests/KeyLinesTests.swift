@testable import StewardConfig
import Testing

@Suite struct KeyLinesTests {
    @Test func tablesAndKeys() {
        let lines = KeyLines("""
            [metrics]
            listen = "127.0.0.1:1"

            [services.api]   # a comment with = and [brackets]
            command = ["/bin/api"]
            """)
        #expect(lines.defined == [["metrics"]: 1, ["metrics", "listen"]: 2, ["services", "api"]: 4, ["services", "api", "command"]: 5])
        #expect(lines.implied == [["services"]: 4])
    }

    @Test func dottedKeysAtTopLevelAndInTables() {
        let lines = KeyLines("""
            services.api.restart = "always"
            services . api . "stop timeout" = "1s"
            [services.web]
            memory.max = "1G"
            """)
        #expect(lines.defined == [
            ["services", "api", "restart"]: 1, ["services", "api", "stop timeout"]: 2,
            ["services", "web"]: 3, ["services", "web", "memory", "max"]: 4,
        ])
        #expect(lines.implied == [["services"]: 1, ["services", "api"]: 1, ["services", "web", "memory"]: 4])
    }

    @Test func inlineTablesRecordTheirKeysOnTheirLine() {
        let lines = KeyLines("""
            [services.api]
            environment = { GOGC = "100", "A=B" = "x", nested = { deep = 1 } }
            memory = {max="1G"}
            """)
        #expect(lines.line(of: ["services", "api", "environment", "GOGC"]) == 2)
        #expect(lines.line(of: ["services", "api", "environment", "A=B"]) == 2)
        #expect(lines.line(of: ["services", "api", "environment", "nested", "deep"]) == 2)
        #expect(lines.line(of: ["services", "api", "memory", "max"]) == 3)
    }

    @Test func multiLineArraysKeepTheirKeyLineAndHideTheirContents() {
        let lines = KeyLines("""
            [services.api]
            command = [
              "/bin/api",   # comment = not a key
              "[services.fake]",
              [ "nested",
                "array" ],
              { inline = "in array" },
            ]
            restart = "always"
            """)
        #expect(lines.defined == [["services", "api"]: 1, ["services", "api", "command"]: 2, ["services", "api", "restart"]: 9])
    }

    @Test func stringsThatLookLikeSyntax() {
        let lines = KeyLines(#"""
            a = "value with = and [x] and # and \" quote"
            b = 'literal with \ and "'
            c = """
            [not.a.header]
            d = "not a key" \"""
            """
            e = '''
            f = 1'''
            g = """x"""""
            h = 1
            """#)
        #expect(lines.defined == [["a"]: 1, ["b"]: 2, ["c"]: 3, ["e"]: 7, ["g"]: 9, ["h"]: 10])
    }

    @Test func quotedKeys() {
        let lines = KeyLines(#"""
            [services."my api"]
            'single.quoted' = 1
            "esc\u0041ped" = 2
            "" = 3
            """#)
        #expect(lines.defined == [
            ["services", "my api"]: 1, ["services", "my api", "single.quoted"]: 2,
            ["services", "my api", "escAped"]: 3, ["services", "my api", ""]: 4,
        ])
    }

    @Test func arrayOfTablesHeadersAndCarriageReturns() {
        let lines = KeyLines("[[services]]\r\nname = \"a\"\r\n\r\n[[services]]\r\nname = \"b\"\r\n")
        #expect(lines.defined == [["services"]: 1, ["services", "name"]: 2])
    }

    @Test func anExplicitTableWinsOverAnEarlierImplicitMention() {
        let lines = KeyLines("""
            [services.api.memory]
            max = "1G"
            [services.api]
            command = ["/bin/api"]
            """)
        #expect(lines.line(of: ["services", "api"]) == 3)
        #expect(lines.line(of: ["services", "api", "memory"]) == 1)
        #expect(lines.line(of: ["services"]) == 1)
    }

    @Test func missingKeysFallBackToTheirNearestTable() {
        let lines = KeyLines("\n[services.api]\ncommand = []\n")
        #expect(lines.line(of: ["services", "api", "restart"]) == 2)
        #expect(lines.line(of: ["services", "api", "memory", "max"]) == 2)
        #expect(lines.line(of: ["metrics", "listen"]) == nil)
        #expect(lines.line(of: []) == nil)
    }

    /// Runs on the text of failed parses too, so it must stop, not hang or trap.
    @Test(arguments: [
        "[", "[[", "a", "a =", "a = [", "a = {", "a = \"", "a = '''", "a = \"\"\"\n", "= 1", "a = [1,,]", "a = {,}",
        "a = ]", "a = }", "[a.", "a.\n= 1", "\"unterminated = 1\nb = 2", "a = \"\\", "x = [{a=1} {b=2}]",
    ])
    func malformedTextTerminates(_ text: String) {
        _ = KeyLines(text)
    }

    @Test func malformedTextStillFindsLaterKeys() {
        #expect(KeyLines("\"unterminated = 1\nb = 2").line(of: ["b"]) == 2)
    }
}
