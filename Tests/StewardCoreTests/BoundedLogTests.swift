import StewardCore
import Testing

@Suite struct BoundedLogTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        var maximumEntries: Int
        var maximumBytes: Int
        /// (entry, bytes) appended in order.
        var appended: [(Int, Int)]
        var kept: [Int]
        var byteCount: Int
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(label: "nothing appended", maximumEntries: 3, maximumBytes: 100, appended: [], kept: [], byteCount: 0),
        Case(label: "under both bounds", maximumEntries: 3, maximumBytes: 100, appended: [(1, 10), (2, 10)], kept: [1, 2], byteCount: 20),
        Case(label: "the entry bound forgets the oldest", maximumEntries: 3, maximumBytes: 100,
             appended: [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)], kept: [3, 4, 5], byteCount: 3),
        Case(label: "the byte bound forgets as many as it takes", maximumEntries: 10, maximumBytes: 10,
             appended: [(1, 3), (2, 3), (3, 3), (4, 6)], kept: [3, 4], byteCount: 9),
        Case(label: "exactly at the byte bound", maximumEntries: 10, maximumBytes: 10, appended: [(1, 5), (2, 5)], kept: [1, 2], byteCount: 10),
        Case(label: "an entry larger than the byte bound is kept alone", maximumEntries: 10, maximumBytes: 10,
             appended: [(1, 3), (2, 30)], kept: [2], byteCount: 30),
        Case(label: "and is forgotten by the next", maximumEntries: 10, maximumBytes: 10, appended: [(1, 30), (2, 1)], kept: [2], byteCount: 1),
        Case(label: "wrapping around after bytes evicted, then growing", maximumEntries: 4, maximumBytes: 10,
             appended: [(1, 4), (2, 4), (3, 4), (4, 1), (5, 1), (6, 1)], kept: [3, 4, 5, 6], byteCount: 7),
        Case(label: "many rounds of the entry bound", maximumEntries: 2, maximumBytes: 1000,
             appended: (1...1000).map { ($0, 1) }, kept: [999, 1000], byteCount: 2),
    ]

    @Test(arguments: cases)
    func bounds(_ test: Case) {
        var log = BoundedLog<Int>(maximumEntries: test.maximumEntries, maximumBytes: test.maximumBytes)
        for (entry, bytes) in test.appended { log.append(entry, bytes: bytes) }
        #expect(log.newest() == test.kept)
        #expect(log.count == test.kept.count)
        #expect(log.byteCount == test.byteCount)
    }

    @Test("newest(n) is the last n, oldest first; more than held gives all, 0 gives none")
    func newest() {
        var log = BoundedLog<Int>(maximumEntries: 3, maximumBytes: 100)
        for entry in 1...5 { log.append(entry, bytes: 1) }
        #expect(log.newest(2) == [4, 5])
        #expect(log.newest(10) == [3, 4, 5])
        #expect(log.newest(0) == [])
    }
}
