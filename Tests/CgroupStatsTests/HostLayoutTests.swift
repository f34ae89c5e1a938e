import StewardTestSupport
import Testing
@testable import CgroupStats

@Suite("Host layout detection on captured /proc files")
struct HostLayoutTests {
    private func layout(_ directory: String, cgroup: String = "cgroup", mountinfo: String = "mountinfo") throws -> HostLayout {
        try HostLayout.detect(
            mountinfo: Fixture.text("\(directory)/\(mountinfo)"),
            procSelfCgroup: Fixture.text("\(directory)/\(cgroup)")
        )
    }

    @Test("this hybrid host: v1 controllers plus a v2 tracking tree")
    func hybrid() throws {
        let layout = try layout("hybrid-host")
        #expect(layout.mode == .hybrid)
        #expect(layout.v2?.mountPoint == "/sys/fs/cgroup/unified")
        #expect(layout.v2?.ownDirectory == "/sys/fs/cgroup/unified")
        #expect(layout.v1Hierarchy(for: "memory")?.ownDirectory.hasPrefix("/sys/fs/cgroup/memory/process_api/") == true)
        #expect(layout.v1Hierarchy(for: "cpuacct")?.ownDirectory == "/sys/fs/cgroup/cpuacct")
        #expect(layout.v1Hierarchy(for: "devices") == nil, "controllers Steward does not use are left out")
    }

    @Test("pure v2 under systemd: one tree, the unit's cgroup")
    func unified() throws {
        let layout = try layout("v2-host")
        #expect(layout.mode == .unified)
        #expect(layout.v2?.ownDirectory == "/sys/fs/cgroup/system.slice/steward.service")
        #expect(layout.v1.isEmpty)
    }

    @Test("pure v1: co-mounted cpu,cpuacct and no v2 tree")
    func legacy() throws {
        let layout = try layout("v1-host")
        #expect(layout.mode == .legacy)
        #expect(layout.v2 == nil)
        let cpu = try #require(layout.v1Hierarchy(for: "cpu"))
        #expect(cpu == layout.v1Hierarchy(for: "cpuacct"))
        #expect(cpu.ownDirectory == "/sys/fs/cgroup/cpu,cpuacct/system.slice/steward.service")
        #expect(layout.v1Hierarchy(for: "freezer")?.ownDirectory == "/sys/fs/cgroup/freezer/system.slice/steward.service")
        #expect(layout.v1.allSatisfy { !$0.controllers.contains("name=systemd") })
    }

    @Test("inside a cgroup namespace with cgroup2 remounted, as a container sees it")
    func cgroupNamespace() throws {
        let layout = try layout("v2-cgroupns", cgroup: "cgroup.after-remount")
        #expect(layout.mode == .unified)
        #expect(layout.v2?.ownDirectory == "/sys/fs/cgroup")
        let child = try self.layout("v2-cgroupns", cgroup: "cgroup.in-child")
        #expect(child.v2?.ownDirectory == "/sys/fs/cgroup/app")
    }

    @Test("a host mount seen from inside a namespace cannot locate our cgroup: a clear error")
    func namespaceWithoutRemount() throws {
        #expect(throws: CgroupParseError.self) {
            try layout("v2-cgroupns", mountinfo: "mountinfo.no-remount")
        }
    }

    @Test("a bind-mounted subtree (mount root not /) maps the path below it")
    func boundSubtree() throws {
        let mountinfo = "30 20 0:26 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
        let layout = try HostLayout.detect(mountinfo: mountinfo, procSelfCgroup: "0::/docker/abc/app\n")
        #expect(layout.v2?.ownDirectory == "/sys/fs/cgroup/app")
    }

    @Test("octal escapes in mount points are decoded")
    func escapes() throws {
        let entries = try MountEntry.parse("30 20 0:26 / /mnt/with\\040space rw - cgroup2 cgroup2 rw\n")
        #expect(entries.first?.mountPoint == "/mnt/with space")
    }

    @Test("malformed input names the file and line", arguments: [
        ("30 20 0:26 / /sys/fs/cgroup rw cgroup2 cgroup2 rw\n", "0::/\n", "/proc/self/mountinfo:1"),
        ("30 20 0:26 / /sys/fs/cgroup rw - cgroup2\n", "0::/\n", "/proc/self/mountinfo:1"),
        ("30 20 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::relative\n", "/proc/self/cgroup:1"),
        ("30 20 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/\ngarbage\n", "/proc/self/cgroup:2"),
        ("30 20 0:26 / /proc rw - proc proc rw\n", "0::/\n", "/proc/self/mountinfo"),
    ])
    func malformed(mountinfo: String, cgroup: String, location: String) {
        #expect {
            try HostLayout.detect(mountinfo: mountinfo, procSelfCgroup: cgroup)
        } throws: { error in
            "\(error)".hasPrefix(location)
        }
    }
}
