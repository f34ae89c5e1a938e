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
    @Test("written only between start and shutdown: a scrape before start leaves an earlier Steward's file for the start to resume, a clean shutdown removes it for good, and a link planted at its temporary name is not followed")
    func writtenOnlyWhileRunning() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("steward-checkpoint-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/test.counters"
        let earlier = CounterCheckpoint(services: [
            "svc": .init(restarts: [.exit: 4], reported: CgroupCounters(cpuUserSeconds: 7), endedRuns: CgroupCounters(cpuUserSeconds: 7)),
        ])
        try earlier.text.write(toFile: path, atomically: true, encoding: .utf8)
        let target = directory + "/target"
        try "keep".write(toFile: target, atomically: true, encoding: .utf8)
        #expect(symlink(target, path + ".new") == 0)

        let sink = CollectingSink()
        let supervisor = try Supervisor(
            configuration: StewardConfiguration(cgroupRoot: "steward-test-\(UInt32.random(in: 0 ... .max))", services: [service("svc", "echo up; exec sleep 1000")]),
            output: .lines(sink), countersFile: path, logger: Logger(label: "steward-test")
        )
        do {
            supervisor.recordCounters()
            #expect(try String(contentsOfFile: path, encoding: .utf8) == earlier.text, "a scrape before start leaves the earlier file alone")

            await supervisor.start()
            _ = try await withDeadline("svc up") { await sink.waitForLine { $0.text == "up" } }
            #expect(supervisor.snapshot(of: "svc")?.restarts[.exit] == 4, "restarts carried on")
            supervisor.recordCounters()
            let written = try #require(try CounterCheckpoint(parsing: String(contentsOfFile: path, encoding: .utf8), file: path).services["svc"])
            #expect(written.restarts[.exit] == 4)
            #expect((written.endedRuns.cpuUserSeconds ?? 0) >= 7 && (written.reported.cpuUserSeconds ?? 0) >= 7, "\(written)")
            #expect(written.liveRunBaseline != nil, "a run is live")
            #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep", "the planted link's target is untouched")
        } catch {
            await supervisor.shutdown()
            throw error
        }
        await supervisor.shutdown()
        #expect(!FileManager.default.fileExists(atPath: path), "a clean shutdown removes the checkpoint")
        supervisor.recordCounters()
        #expect(!FileManager.default.fileExists(atPath: path), "and nothing writes it again")
    }
}
