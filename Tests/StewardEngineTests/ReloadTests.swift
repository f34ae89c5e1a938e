import CgroupFS
import Foundation
import StewardConfig
import StewardCore
import StewardTestSupport
import Testing
@testable import StewardEngine

@Suite("Reload on real cgroups", .tags(.realCgroups))
struct ReloadTests {
    @Test("reload starts added services, stops removed ones, restarts changed ones and leaves the rest alone")
    func reloadDiff() async throws {
        let keep = service("keep", "echo keep $$; exec sleep 1000")
        let change = service("change", "echo change v1; exec sleep 1000")
        let remove = service("remove", "echo remove up; exec sleep 1000")
        try await withSupervisor([keep, change, remove]) { supervisor, sink in
            _ = try await withDeadline("all up") {
                await sink.waitForLine { $0.text == "remove up" }
                return await sink.waitForLine { $0.text == "change v1" }
            }
            let keepPid = supervisor.snapshot(of: "keep")?.mainPid
            #expect(supervisor.service(named: "remove")?.reader.read().sample != nil, "a read keeps the cgroup's files open")
            let removed = try #require(supervisor.snapshot(of: "remove")?.cgroup)

            let next = StewardConfiguration(
                cgroupRoot: supervisor.configuration.cgroupRoot,
                services: [keep, service("change", "echo change v2; exec sleep 1000"), service("add", "echo add up; exec sleep 1000")]
            )
            let plan = try await supervisor.reload(next)
            #expect((plan.added, plan.removed, plan.changed, plan.unchanged) == (["add"], ["remove"], ["change"], ["keep"]))

            _ = try await withDeadline("new and changed up") {
                await sink.waitForLine { $0.text == "add up" }
                return await sink.waitForLine { $0.text == "change v2" }
            }
            #expect(supervisor.snapshot(of: "keep")?.mainPid == keepPid, "an unchanged service must not be touched")
            #expect(supervisor.snapshot(of: "remove") == nil)
            #expect(!FileManager.default.fileExists(atPath: removed.trackingDirectory))
            // The removed service's reader went with it: no descriptor of this process still
            // points into its cgroup directories (metrics kept several open while it ran).
            let directories = [removed.v2Directory].compactMap { $0 } + removed.v1Directories.map(\.path)
            let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
            let stale = descriptors.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
                .filter { target in directories.contains { target.hasPrefix($0 + "/") } }
            #expect(stale.isEmpty, "descriptors left open in the removed service's cgroup: \(stale)")
            #expect(supervisor.serviceNames == ["add", "change", "keep"])
        }
    }
}
