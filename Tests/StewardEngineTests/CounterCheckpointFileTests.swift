import CgroupStats
import Foundation
import Logging
import StewardConfig
import StewardCore
import StewardTestSupport
import Testing
@testable import StewardEngine

@Suite("Counter checkpoint file", .tags(.realCgroups))
struct CounterCheckpointFileTests {
    /// A supervisor of one service, `svc` (prints "up", then sleeps), whose checkpoint is `path` in
    /// a scratch directory that `prepare` fills first; not started. Shut down (if `body` did not)
    /// and the directory removed afterwards.
    private func withCheckpointedSupervisor(
        prepare: (_ directory: String, _ path: String) throws -> Void,
        _ body: (Supervisor, CollectingSink, _ directory: String, _ path: String) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("steward-checkpoint-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/test.counters"
        try prepare(directory, path)
        let sink = CollectingSink()
        let supervisor = try Supervisor(
            configuration: StewardConfiguration(cgroupRoot: "steward-test-\(UInt32.random(in: 0 ... .max))", services: [service("svc", "echo up; exec sleep 1000")]),
            output: .lines(sink), countersFile: path, logger: Logger(label: "steward-test")
        )
        do {
            try await body(supervisor, sink, directory, path)
        } catch {
            await supervisor.shutdown()
            throw error
        }
        await supervisor.shutdown()
    }

    private func started(_ supervisor: Supervisor, _ sink: CollectingSink) async throws {
        await supervisor.start()
        _ = try await withDeadline("svc up") { await sink.waitForLine { $0.text == "up" } }
    }

    @Test("written only between start and shutdown: a scrape before start leaves an earlier Steward's file for the start to resume, a clean shutdown removes it for good, and a link planted at its temporary name is not followed")
    func writtenOnlyWhileRunning() async throws {
        let earlier = CounterCheckpoint(services: [
            "svc": .init(restarts: [.exit: 4], reported: CgroupCounters(cpuUserSeconds: 7), endedRuns: CgroupCounters(cpuUserSeconds: 7)),
        ])
        try await withCheckpointedSupervisor(prepare: { directory, path in
            try earlier.text.write(toFile: path, atomically: true, encoding: .utf8)
            try "keep".write(toFile: directory + "/target", atomically: true, encoding: .utf8)
            #expect(symlink(directory + "/target", path + ".new") == 0)
        }) { supervisor, sink, directory, path in
            supervisor.recordCounters()
            #expect(try String(contentsOfFile: path, encoding: .utf8) == earlier.text, "a scrape before start leaves the earlier file alone")

            try await started(supervisor, sink)
            #expect(supervisor.snapshot(of: "svc")?.restarts[.exit] == 4, "restarts carried on")
            supervisor.recordCounters()
            let written = try #require(try CounterCheckpoint(parsing: String(contentsOfFile: path, encoding: .utf8), file: path).services["svc"])
            #expect(written.restarts[.exit] == 4)
            #expect((written.endedRuns.cpuUserSeconds ?? 0) >= 7 && (written.reported.cpuUserSeconds ?? 0) >= 7, "\(written)")
            #expect(written.liveRunBaseline != nil, "a run is live")
            #expect(try String(contentsOfFile: directory + "/target", encoding: .utf8) == "keep", "the planted link's target is untouched")
            // Nothing moved since (svc sleeps): the file is not written again.
            let inode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int)
            supervisor.recordCounters()
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int == inode, "unchanged counters are not rewritten")

            await supervisor.shutdown()
            #expect(!FileManager.default.fileExists(atPath: path), "a clean shutdown removes the checkpoint")
            supervisor.recordCounters()
            #expect(!FileManager.default.fileExists(atPath: path), "and nothing writes it again")
        }
    }

    @Test("a checkpoint far larger than any real one is not read: counters start from zero, and the file is replaced by a real checkpoint")
    func oversizedCheckpointIsNotRead() async throws {
        try await withCheckpointedSupervisor(prepare: { _, path in
            // A valid checkpoint, but of 700,000 services: read, it would carry svc's restarts on.
            var text = CounterCheckpoint(services: ["svc": .init(restarts: [.exit: 4])]).text
            text.reserveCapacity(20 << 20)
            for index in 0 ..< 700_000 { text += "service p\(index)\nrestarts\n" }
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(text.utf8.count > CounterCheckpointFile.maximumBytes)
        }) { supervisor, sink, _, path in
            try await started(supervisor, sink)
            #expect(supervisor.snapshot(of: "svc")?.restarts[.exit] == nil, "counters start from zero")
            supervisor.recordCounters()
            let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            #expect(size < 4096, "replaced by a real checkpoint: \(size) bytes")
        }
    }
}
