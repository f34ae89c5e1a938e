import CgroupStats
import Foundation
import StewardConfig
import StewardCore
import StewardEngine
import StewardTestSupport
import Testing
@testable import CgroupFS

@Suite("CgroupReader on real cgroups", .tags(.realCgroups))
struct CgroupReaderTests {
    static let hostMode = try? HostLayout.current().mode

    @Test("a running service's cgroup is read; there is none before its start or after its stop, and kept descriptors are given back")
    func lifecycle() async throws {
        let budget = DescriptorBudget(descriptors: 100)
        let noBudget = DescriptorBudget(descriptors: 0)
        try await withSupervisor([service("idle", "echo ready; exec sleep 1000", autostart: false)]) { supervisor, lines in
            let reader = CgroupReader(cgroup: supervisor.tree.service(named: "idle"), budget: budget)
            let uncached = CgroupReader(cgroup: supervisor.tree.service(named: "idle"), budget: noBudget)
            #expect(reader.sample() == nil, "no cgroup before the first start")
            #expect(budget.remaining == 100)

            await supervisor.start("idle")
            try await withDeadline("ready") { await lines.wait(for: "ready", from: "idle") }
            for sample in [reader.sample(), uncached.sample()] {
                let sample = try #require(sample)
                #expect(sample.errors.isEmpty, "\(sample.errors)")
                #expect(sample.memory != nil)
                #expect(sample.cpu != nil)
                #expect(sample.pids == 1)
                #expect(sample.oomKills == 0)
                if supervisor.tree.layout.v2 != nil, FileManager.default.fileExists(atPath: "/proc/pressure/memory") {
                    #expect(sample.memoryPressure != nil)
                }
            }
            let kept = 100 - budget.remaining
            #expect(kept >= 5, "the reader keeps its files open")
            #expect(noBudget.remaining == 0)
            #expect(reader.memory() != nil)
            #expect(budget.remaining == 100 - kept, "a second read reuses the kept descriptors")
            // The guard's cheap bound (usage + swap) is never below what memory.stat says; a limit
            // it exceeds makes the reader read memory.stat.
            // (The service's own reader: the guard reads only a live run.)
            let live = try #require(supervisor.service(named: "idle")?.reader)
            let precise = try #require(reader.memory()?.guardedAnonBytes(includingShmem: true))
            let bound = try #require(live.guardedBytes(limitBytes: .max, includingShmem: true))
            #expect(bound >= precise, "bound \(bound) below anon + swap + shmem \(precise)")
            let belowBound = try #require(live.guardedBytes(limitBytes: 0, includingShmem: true))
            #expect(belowBound == precise, "past the bound the guard reads memory.stat")

            await supervisor.stop("idle")
            _ = try await withDeadline("idle to stop") { await supervisor.waitUntil("idle") { $0.state == .idle && $0.lastExit != nil } }
            #expect(reader.sample() == nil, "the cgroup is gone, not a cgroup of zeros")
            #expect(reader.memory() == nil)
            #expect(budget.remaining == 100, "descriptors of the removed cgroup are closed")
        }
    }

    @Test("after a restart the stale descriptors are reopened on the new run's cgroup")
    func restartReopens() async throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("steward-reader-\(UInt32.random(in: 0 ... .max))").path
        defer { try? FileManager.default.removeItem(atPath: marker) }
        // The first run has two processes, the second one.
        let script = "if [ -e \(marker) ]; then echo second; exec sleep 1000; else touch \(marker); sleep 1000 & echo first; exec sleep 1000; fi"
        let budget = DescriptorBudget(descriptors: 100)
        try await withSupervisor([service("twice", script)]) { supervisor, lines in
            let reader = CgroupReader(cgroup: supervisor.tree.service(named: "twice"), budget: budget)
            try await withDeadline("first run") { await lines.wait(for: "first", from: "twice") }
            #expect(try #require(reader.sample()).pids == 2)
            let kept = budget.remaining

            await supervisor.restart("twice")
            try await withDeadline("second run") { await lines.wait(for: "second", from: "twice") }
            let sample = try #require(reader.sample())
            #expect(sample.errors.isEmpty, "\(sample.errors)")
            #expect(sample.pids == 1, "read from the new cgroup")
            #expect(budget.remaining == kept, "each stale descriptor replaced by one new one")
        }
    }

    @Test("pure cgroup v1 reads CPU from cpuacct.stat ticks, a hybrid host from the v2 tree's cpu.stat",
          .enabled(if: hostMode == .hybrid, "needs the v1 hierarchies of a hybrid host"))
    func legacyCPU() async throws {
        let busy = service("busy", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo ready; exec sleep 1000")
        try await withSupervisor([busy]) { supervisor, lines in
            try await withDeadline("ready") { await lines.wait(for: "ready", from: "busy") }
            let cgroup = supervisor.tree.service(named: "busy")
            var legacyLayout = supervisor.tree.layout
            legacyLayout.mode = .legacy
            let legacy = try ServiceCgroup(directories: cgroup.v1Directories.map(\.path), layout: legacyLayout)
            let budget = DescriptorBudget(descriptors: 0)
            let v1 = try #require(CgroupReader(cgroup: legacy, budget: budget).sample())
            let hybrid = try #require(CgroupReader(cgroup: cgroup, budget: budget).sample())
            #expect(v1.errors.isEmpty && hybrid.errors.isEmpty, "\(v1.errors) \(hybrid.errors)")
            #expect(v1.cpu?.version == .v1)
            #expect(hybrid.cpu?.version == .v2)
            #expect(v1.memoryPressure == nil, "pure v1 has no PSI per cgroup")
            let ticks = (v1.cpu?.userSeconds ?? 0) + (v1.cpu?.systemSeconds ?? 0)
            let exact = (hybrid.cpu?.userSeconds ?? 0) + (hybrid.cpu?.systemSeconds ?? 0)
            #expect(exact > 0.05, "the loop burned CPU: \(exact) s")
            #expect(abs(ticks - exact) <= 0.05, "cpuacct ticks \(ticks) s vs cpu.stat \(exact) s")
            #expect(v1.memory != nil)
        }
    }

    @Test("directories given by hand are placed in their hierarchies")
    func directoriesByHand() throws {
        let layout = try HostLayout.detect(mountinfo: Fixture.text("hybrid-host/mountinfo"), procSelfCgroup: Fixture.text("hybrid-host/cgroup"))
        let cgroup = try ServiceCgroup(directories: ["/sys/fs/cgroup/memory/a/web/", "/sys/fs/cgroup/unified/a/web", "/sys/fs/cgroup/pids/a/web"], layout: layout)
        #expect(cgroup.name == "web")
        #expect(cgroup.mode == .hybrid)
        #expect(cgroup.v2Directory == "/sys/fs/cgroup/unified/a/web")
        #expect(cgroup.v1Directory(for: "memory") == "/sys/fs/cgroup/memory/a/web")
        #expect(cgroup.v1Directory(for: "pids") == "/sys/fs/cgroup/pids/a/web")
        #expect(throws: CgroupFSError.self) { try ServiceCgroup(directories: ["/tmp/web"], layout: layout) }
        #expect(throws: CgroupFSError.self) { try ServiceCgroup(directories: ["/sys/fs/cgroup/memoryx/web"], layout: layout) }
    }
}
