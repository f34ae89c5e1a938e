import CgroupStats

extension HostLayout {
    /// The layout of the running process.
    public static func current() throws -> HostLayout {
        try detect(mountinfo: try CgroupFile.readText("/proc/self/mountinfo"),
                   procSelfCgroup: try CgroupFile.readText("/proc/self/cgroup"))
    }
}
