/// How cgroups are mounted on this host, in systemd's terms (cg_unified_cached).
public enum CgroupMode: String, Sendable, Equatable {
    /// Pure cgroup v2: one tree with every controller.
    case unified
    /// v1 controller hierarchies plus a v2 tree without controllers, used for process tracking.
    case hybrid
    /// v1 hierarchies only.
    case legacy
}

/// One mounted cgroup hierarchy and where this process sits in it.
public struct CgroupHierarchy: Sendable, Equatable {
    /// Empty for the v2 tree; the v1 controllers (or "name=systemd") otherwise.
    public var controllers: Set<String>
    public var mountPoint: String
    /// Absolute directory of this process's own cgroup in this hierarchy.
    public var ownDirectory: String

    public var isV2: Bool { controllers.isEmpty }
}

/// The cgroup hierarchies a supervisor uses on this host: the v2 tree (whole-host on unified
/// hosts, tracking-only on hybrid ones) and the v1 hierarchies that carry controllers.
public struct HostLayout: Sendable, Equatable {
    public var mode: CgroupMode
    public var v2: CgroupHierarchy?
    public var v1: [CgroupHierarchy]

    /// The v1 controllers a service cgroup is created in (freezer only serves killing on pure v1).
    public static let v1ControllersUsed: Set<String> = ["memory", "cpu", "cpuacct", "pids", "freezer"]

    public func v1Hierarchy(for controller: String) -> CgroupHierarchy? {
        v1.first { $0.controllers.contains(controller) }
    }

    /// Works from the two files only, so captured fixtures of v2, v1 and hybrid hosts (and of
    /// containers with a cgroup namespace) test it.
    public static func detect(mountinfo: String, procSelfCgroup: String) throws(CgroupParseError) -> HostLayout {
        let mounts = try MountEntry.parse(mountinfo).filter { $0.fsType == "cgroup" || $0.fsType == "cgroup2" }
        let own = try ProcCgroup(parsing: procSelfCgroup, file: "/proc/self/cgroup")
        var v2: CgroupHierarchy?
        var v1: [CgroupHierarchy] = []
        for entry in own.entries {
            let controllers = Set(entry.controllers)
            if entry.hierarchyID == 0 {
                guard let mount = mounts.first(where: { $0.fsType == "cgroup2" && isPrefix($0.root, of: entry.path) }) else {
                    continue // a v1-only host still lists "0::/"; nothing is mounted for it
                }
                v2 = CgroupHierarchy(controllers: [], mountPoint: mount.mountPoint, ownDirectory: join(mount, entry.path))
            } else if let mount = mounts.first(where: {
                $0.fsType == "cgroup" && controllers.isSubset(of: $0.superOptions) && isPrefix($0.root, of: entry.path)
            }) {
                v1.append(CgroupHierarchy(controllers: controllers, mountPoint: mount.mountPoint, ownDirectory: join(mount, entry.path)))
            }
        }
        let hasV1Controllers = v1.contains { !$0.controllers.allSatisfy { $0.hasPrefix("name=") } }
        let mode: CgroupMode
        switch (v2 != nil, hasV1Controllers) {
        case (true, false): mode = .unified
        case (true, true): mode = .hybrid
        case (false, true): mode = .legacy
        case (false, false):
            throw CgroupParseError(file: "/proc/self/mountinfo", line: nil, message: "no cgroup hierarchy of this process is mounted")
        }
        return HostLayout(mode: mode, v2: v2, v1: v1.filter { !$0.controllers.isDisjoint(with: v1ControllersUsed) })
    }

    private static func isPrefix(_ root: String, of path: String) -> Bool {
        root == "/" || path == root || path.hasPrefix(root + "/")
    }

    private static func join(_ mount: MountEntry, _ path: String) -> String {
        let relative = mount.root == "/" ? path : String(path.dropFirst(mount.root.count))
        return relative.isEmpty || relative == "/" ? mount.mountPoint : mount.mountPoint + relative
    }
}
