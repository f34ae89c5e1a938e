import StewardEngine
import Synchronization
import Testing

@Suite struct ServiceLogsTests {
    final class Counting: OutputSink {
        let lines = Mutex<[String]>([])
        func write(service: String, stream: ServiceStream, line: [UInt8]) {
            lines.withLock { $0.append("\(service) \(stream.rawValue) \(String(decoding: line, as: UTF8.self))") }
        }
    }

    func text(_ lines: [LogLine]) -> [String] {
        lines.map { "\($0.stream.rawValue) \(String(decoding: $0.text, as: UTF8.self))" }
    }

    @Test("each service keeps its newest lines within both bounds, and every line still reaches the next sink")
    func keepsAndPasses() {
        let next = Counting()
        let logs = ServiceLogs(passingTo: next, maximumLines: 3, maximumBytes: 1 << 20)
        for index in 1...5 { logs.write(service: "a", stream: index % 2 == 0 ? .stderr : .stdout, line: Array("a\(index)".utf8)) }
        logs.write(service: "b", stream: .stdout, line: Array("b1".utf8))
        #expect(text(logs.newest(10, of: "a")) == ["stdout a3", "stderr a4", "stdout a5"])
        #expect(text(logs.newest(1, of: "a")) == ["stdout a5"])
        #expect(text(logs.newest(10, of: "b")) == ["stdout b1"])
        #expect(logs.newest(10, of: "unknown").isEmpty)
        #expect(next.lines.withLock { $0.count } == 6)

        let small = ServiceLogs(passingTo: next, maximumLines: 1000, maximumBytes: 4096)
        for _ in 1...1000 { small.write(service: "a", stream: .stdout, line: [UInt8](repeating: 120, count: 1000)) }
        #expect((1...3).contains(small.newest(1000, of: "a").count), "4 KiB hold at most 3 lines of 1000 bytes")
    }

    @Test("a follow gets the backlog, then every later line once, and ends at close")
    func follow() async {
        let logs = ServiceLogs(passingTo: Counting(), maximumLines: 100, maximumBytes: 1 << 20)
        for index in 1...3 { logs.write(service: "a", stream: .stdout, line: Array("old\(index)".utf8)) }
        let (backlog, stream) = logs.follow("a", newest: 2)
        #expect(text(backlog) == ["stdout old2", "stdout old3"])
        for index in 1...3 { logs.write(service: "a", stream: .stdout, line: Array("new\(index)".utf8)) }
        logs.write(service: "b", stream: .stdout, line: Array("other".utf8))
        logs.close()
        var received: [String] = []
        for await line in stream { received += text([line]) }
        #expect(received == ["stdout new1", "stdout new2", "stdout new3"])
        let (_, late) = logs.follow("a", newest: 0)
        var afterClose = 0
        for await _ in late { afterClose += 1 }
        #expect(afterClose == 0, "a follow after close ends at once")
    }

    @Test("a follower that does not read holds at most its backlog of lines, the newest")
    func slowFollower() async {
        let logs = ServiceLogs(passingTo: Counting(), maximumLines: 10, maximumBytes: 1 << 20)
        let (_, stream) = logs.follow("a", newest: 0)
        let written = ServiceLogs.followerBacklog * 3
        for index in 1...written { logs.write(service: "a", stream: .stdout, line: Array("\(index)".utf8)) }
        logs.close()
        var received: [String] = []
        for await line in stream { received.append(String(decoding: line.text, as: UTF8.self)) }
        #expect(received.count == ServiceLogs.followerBacklog)
        #expect(received.last == "\(written)")
    }
}
