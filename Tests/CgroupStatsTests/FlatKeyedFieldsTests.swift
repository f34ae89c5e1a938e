import Foundation
import StewardTestSupport
import Testing
@testable import CgroupStats

/// The byte-level flat-keyed parser against a plain reading of every captured flat-keyed file.
@Suite struct FlatKeyedFieldsTests {
    /// Every capture of a flat-keyed file in Tests/Fixtures (memory.stat, cpu.stat, memory.events, ...).
    static let captures: [String] = {
        let flatKeyed = ["memory.stat", "cpu.stat", "memory.events", "cgroup.events", "memory.oom_control", "cpuacct.stat", "cgroup.stat"]
        let files = FileManager.default.enumerator(atPath: Fixture.root.path)?.compactMap { $0 as? String } ?? []
        return files.filter { path in
            let name = (path as NSString).lastPathComponent
            return flatKeyed.contains { name == $0 || name.hasSuffix("." + $0) } || name.hasSuffix(".stat") && name.hasPrefix("v1-")
        }.sorted()
    }()

    @Test func capturesAreFound() {
        #expect(Self.captures.count >= 20, "\(Self.captures)")
    }

    @Test(arguments: captures) func everyKeyOfACaptureIsFound(path: String) throws {
        let text = try Fixture.text(path)
        var expected: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            try #require(parts.count == 2, "\(path): \(line)")
            expected[String(parts[0])] = try #require(UInt64(parts[1]))
        }
        let fields = try #require(FlatKeyedFields(wellFormed: text), "the byte-level path refused \(path)")
        #expect(fields.count == expected.count)
        for (key, value) in expected {
            #expect(fields[key] == value, "\(path): \(key)")
        }
        #expect(fields.dictionary == expected)
        #expect(fields["no_such_key"] == nil && fields[""] == nil)
    }

    @Test func prefixesAndOrderDoNotMatter() throws {
        let fields = try flatKeyed("anon_thp 5\nanon 7\nfile 9", file: "memory.stat")
        #expect(fields["anon"] == 7 && fields["anon_thp"] == 5 && fields["ano"] == nil && fields["anon_thp_x"] == nil)
        #expect(fields == (try flatKeyed("file 9\nanon 7\nanon_thp 5\n", file: "memory.stat")))
        #expect(fields != (try flatKeyed("file 9\nanon 7\nanon_thp 6\n", file: "memory.stat")))
    }

    /// Far more keys than any kernel file, so that probing wraps and collides.
    @Test func manyKeys() throws {
        let text = (0 ..< 3000).map { "key_\($0) \($0 * 7)" }.joined(separator: "\n")
        let fields = try flatKeyed(text, file: "synthetic")
        #expect(fields.count == 3000)
        #expect((0 ..< 3000).allSatisfy { fields["key_\($0)"] == UInt64($0 * 7) })
    }

    /// What the byte-level path refuses goes to the strict parser, which names the problem, or (a lone
    /// "\n") accepts it.
    @Test func strictPath() throws {
        #expect(FlatKeyedFields(wellFormed: "\n") == nil)
        #expect(try flatKeyed("\n", file: "cpu.stat.local").count == 0)
        #expect(FlatKeyedFields(wellFormed: "a 1\r\nb 2\n") == nil)
        #expect(FlatKeyedFields(wellFormed: "a 1\na 2\n") == nil)
        #expect(FlatKeyedFields(wellFormed: "a 18446744073709551616\n") == nil)
        #expect(throws: CgroupParseError(file: "f", line: 2, message: "duplicate key 'a'")) { try flatKeyed("a 1\na 2\n", file: "f") }
        // A blank last line: the byte-level path stops at it, the strict one rejects it by number.
        #expect(throws: CgroupParseError(file: "f", line: 2, message: "empty line")) { try flatKeyed("a 1\n\nb 2", file: "f") }
    }
}
