import StewardTestSupport
import Testing
@testable import CgroupStats

/// Files of a busy cgroup on a pure-v2 kernel (Tests/Fixtures/v2-host-files, see its README): half a
/// CPU in cpu.max and 64 MiB in memory.max, while a 100 MiB write was being reclaimed. The capture is
/// re-run by Tests/vm/capture-v2-fixtures, so these tests check what the setup guarantees, not exact numbers.
@Suite struct V2HostFilesTests {
    static func text(_ name: String) throws -> String {
        try Fixture.text("v2-host-files/\(name)")
    }

    @Test func cpuStatShowsThrottling() throws {
        let stat = try CPUStat(parsing: Self.text("cpu.stat"), file: "cpu.stat")
        let usage = try #require(stat.usageSeconds), user = try #require(stat.userSeconds)
        let system = try #require(stat.systemSeconds)
        #expect(stat.usageSeconds == Double(try #require(stat.fields["usage_usec"])) / 1e6)
        #expect(abs(usage - (user + system)) < 1e-5)  // each is rounded down to a microsecond on its own
        let periods = try #require(stat.periods), throttled = try #require(stat.throttledPeriods)
        #expect(throttled > 0 && throttled <= periods)  // a busy loop at half a CPU is throttled most periods
        #expect(try #require(stat.throttledSeconds) > 0)
        #expect(stat.fields["nr_bursts"] == 0)

        let root = try CPUStat(parsing: Self.text("root.cpu.stat"), file: "cpu.stat")
        #expect(try #require(root.usageSeconds) > usage)
    }

    @Test func memoryAtItsLimit() throws {
        let stat = try MemoryStat(parsing: Self.text("memory.stat"), file: "memory.stat", version: .v2)
        let current = try SingleValue.integer(Self.text("memory.current"), file: "memory.current")
        #expect(try SingleValue.limit(Self.text("memory.max"), file: "memory.max") == .bytes(64 * mebibyte))
        // No memory.swap.current was captured: swap is "not accounted" here, not 0.
        let classes = try MemoryClasses.v2(stat: stat, current: current, swapCurrent: nil)
        #expect(classes.usageBytes <= 64 * mebibyte && classes.usageBytes > 56 * mebibyte)
        #expect(classes.swapBytes == nil)
        #expect(classes.kernelBytes == stat.fields["kernel"])
        #expect(classes.anonBytes < 2 * mebibyte)  // bash and dd
        #expect(classes.fileBytes > 56 * mebibyte)  // the write's cache, held at the limit ...
        #expect(classes.workingSetBytes < 8 * mebibyte)  // ... nearly all of it inactive
        let events = try MemoryEvents(parsing: Self.text("memory.events"), file: "memory.events")
        #expect(try #require(events.max) > 0)  // reclaim ran at memory.max
        #expect(events.oomKill == 0)
    }

    @Test func memoryEventsAndCgroupEvents() throws {
        let hierarchical = try MemoryEvents(parsing: Self.text("memory.events"), file: "memory.events")
        let local = try MemoryEvents(parsing: Self.text("memory.events.local"), file: "memory.events.local")
        #expect(local.fields.count == 6)
        #expect(local == hierarchical)  // no child cgroups
        #expect(try CgroupEvents(parsing: Self.text("cgroup.events"), file: "cgroup.events").populated == true)
        let exited = try CgroupEvents(parsing: Self.text("cgroup.events.exited"), file: "cgroup.events")
        #expect(exited.populated == false)
        #expect(exited.frozen == false)
    }

    @Test(arguments: ["cpu.pressure", "memory.pressure", "io.pressure"])
    func pressure(file: String) throws {
        let pressure = try Pressure(parsing: Self.text(file), file: file)
        let full = try #require(pressure.full)
        #expect(full.totalMicroseconds <= pressure.some.totalMicroseconds)
        #expect(pressure.some.avg10 <= 100 && pressure.some.avg60 <= 100 && pressure.some.avg300 <= 100)
        if file != "io.pressure" { #expect(pressure.some.totalMicroseconds > 0) }  // throttled, reclaimed
    }

    @Test(arguments: [
        ("v2-host/cgroup", "/system.slice/steward.service"),
        ("v2-cgroupns/cgroup", "/"),
        ("v2-cgroupns/cgroup.in-child", "/app"),
        ("v2-cgroupns/cgroup.host-view", "/system.slice/container.service"),
    ])
    func procCgroupOnPureV2(path: String, unified: String) throws {
        let cgroup = try ProcCgroup(parsing: Fixture.text(path), file: path)
        #expect(cgroup.entries == [ProcCgroup.Entry(hierarchyID: 0, controllers: [], path: unified)])
        #expect(cgroup.unifiedPath == unified)
        #expect(cgroup.path(forController: "memory") == nil)
    }

    @Test func procCgroupOnPureV1() throws {
        // Tests/Fixtures/v1-host: a 6.1 kernel booted without cgroup2 mounted, so no "0::" line at all.
        let cgroup = try ProcCgroup(parsing: Fixture.text("v1-host/cgroup"), file: "v1-host/cgroup")
        #expect(cgroup.unifiedPath == nil)
        #expect(cgroup.entries.count == 7)
        #expect(cgroup.entries.first { $0.hierarchyID == 3 }?.controllers == ["cpu", "cpuacct"])
        for controller in ["cpu", "cpuacct", "memory", "pids", "name=systemd"] {
            #expect(cgroup.path(forController: controller) == "/system.slice/steward.service", "\(controller)")
        }
    }
}
