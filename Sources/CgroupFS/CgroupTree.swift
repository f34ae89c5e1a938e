import CgroupStats
import Glibc

/// The part of the cgroup hierarchies Steward owns: a root directory per hierarchy (its own cgroup
/// by default, as a systemd `Delegate=yes` service must) under which each service gets a child.
public final class CgroupTree: Sendable {
    public let layout: HostLayout
    public let v2Root: String?
    public let v1Roots: [ServiceCgroup.V1Directory]
    /// Directories this tree created and must remove again, outermost first.
    private let createdDirectories: [String]
    /// Set when Steward moved its own processes into a leaf to obey v2's no-internal-processes rule.
    private let leaf: String?
    /// The root directory (of the hierarchy that tracks processes), open and flock'ed for as long as
    /// this tree exists; -1 when another tree holds the lock.
    private let rootLock: Int32

    /// Whether this tree is the only one using its root: another Steward (or another tree of this
    /// process) with the same root holds the lock, and then the services' cgroups may be its.
    public var ownsRootAlone: Bool { rootLock >= 0 }

    /// Name of the leaf Steward moves itself into on v2; service names may not take it.
    public static let supervisorLeafName = "steward"
    static let wantedV2Controllers = ["memory", "pids", "cpu"]

    /// - Parameter root: nil or "" nests services directly below Steward's own cgroup; a relative
    ///   path ("a/b") nests them below that path inside the own cgroup; an absolute one ("/a") is
    ///   taken from each hierarchy's mount point.
    public init(layout: HostLayout, root: String? = nil) throws(CgroupFSError) {
        var layout = layout
        // Already in Steward's leaf (another tree of this process moved it there): the delegated
        // cgroup is the leaf's parent, not the leaf.
        if layout.mode == .unified, let v2 = layout.v2, v2.ownDirectory.hasSuffix("/" + Self.supervisorLeafName) {
            layout.v2?.ownDirectory = String(v2.ownDirectory.dropLast(Self.supervisorLeafName.count + 1))
        }
        self.layout = layout
        func rootDirectory(_ hierarchy: CgroupHierarchy) -> String {
            guard let root, !root.isEmpty else { return hierarchy.ownDirectory }
            return root.hasPrefix("/") ? hierarchy.mountPoint + root : hierarchy.ownDirectory + "/" + root
        }
        var created: [String] = []
        func makePath(from base: String, to target: String) throws(CgroupFSError) {
            guard target.count > base.count else { return }
            var path = base
            for component in target.dropFirst(base.count).split(separator: "/") {
                path += "/" + component
                if try CgroupFile.makeDirectory(path) { created.append(path) }
            }
        }
        var leaf: String?
        do {
            if let v2 = layout.v2 {
                let target = rootDirectory(v2)
                try makePath(from: target.hasPrefix(v2.ownDirectory) ? v2.ownDirectory : v2.mountPoint, to: target)
                if layout.mode == .unified {
                    leaf = try Self.enableControllers(from: v2, to: target, created: &created)
                }
                v2Root = target
            } else {
                v2Root = nil
            }
            var v1Roots: [ServiceCgroup.V1Directory] = []
            for hierarchy in layout.v1 where layout.mode == .legacy || hierarchy.controllers != ["freezer"] {
                let target = rootDirectory(hierarchy)
                try makePath(from: target.hasPrefix(hierarchy.ownDirectory) ? hierarchy.ownDirectory : hierarchy.mountPoint, to: target)
                v1Roots.append(.init(controllers: hierarchy.controllers, path: target))
            }
            self.v1Roots = v1Roots
        } catch {
            for directory in created.reversed() { try? CgroupFile.removeDirectory(directory) }
            throw error
        }
        self.createdDirectories = created
        self.leaf = leaf
        // The kernel drops the lock with the descriptor, so a Steward that was killed holds none.
        let tracking = v2Root ?? v1Roots.first { $0.controllers.contains("freezer") }?.path
            ?? v1Roots.first { $0.controllers.contains("memory") }?.path ?? v1Roots.first?.path
        let lock = tracking.map { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) } ?? -1
        if lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) != 0 {
            close(lock)
            rootLock = -1
        } else {
            rootLock = lock
        }
    }

    public func service(named name: String) -> ServiceCgroup {
        ServiceCgroup(
            name: name,
            mode: layout.mode,
            v2Directory: v2Root.map { $0 + "/" + name },
            v1Directories: v1Roots.map { .init(controllers: $0.controllers, path: $0.path + "/" + name) }
        )
    }

    /// Removes what `init` created and moves Steward back out of its leaf. Service cgroups must
    /// have been removed first.
    public func tearDown() {
        if rootLock >= 0 { close(rootLock) }
        for directory in createdDirectories.reversed() where directory != leaf {
            try? CgroupFile.removeDirectory(directory)
        }
        guard let leaf, let own = layout.v2?.ownDirectory else { return }
        // Controllers must be off before processes may live in `own` again.
        let enabled = (try? CgroupFile.readText(own + "/cgroup.subtree_control"))?.split(whereSeparator: \.isWhitespace) ?? []
        if !enabled.isEmpty {
            try? CgroupFile.write(enabled.map { "-" + $0 }.joined(separator: " "), to: own + "/cgroup.subtree_control")
        }
        for pid in (try? CgroupFile.readPids(leaf + "/cgroup.procs")) ?? [] {
            try? CgroupFile.write(String(pid), to: own + "/cgroup.procs")
        }
        if createdDirectories.contains(leaf) { try? CgroupFile.removeDirectory(leaf) }
    }

    /// Enables memory/pids/cpu for the children of every directory from Steward's own cgroup down
    /// to the services' root. A non-root v2 cgroup with controllers enabled may hold no processes,
    /// so Steward first moves the processes of its own cgroup into a leaf. Returns that leaf.
    private static func enableControllers(from v2: CgroupHierarchy, to target: String, created: inout [String]) throws(CgroupFSError) -> String? {
        let available = try CgroupFile.readText(v2.ownDirectory + "/cgroup.controllers").split(whereSeparator: \.isWhitespace).map(String.init)
        let wanted = wantedV2Controllers.filter(available.contains)
        guard !wanted.isEmpty else {
            throw CgroupFSError(
                path: v2.ownDirectory + "/cgroup.controllers",
                operation: "no memory, pids or cpu controller is available in",
                errno: .permissionDenied,
                hint: "the parent cgroup must delegate them: run Steward in a systemd unit with Delegate=yes"
            )
        }
        var leaf: String?
        if v2.ownDirectory != v2.mountPoint {
            let leafPath = v2.ownDirectory + "/" + supervisorLeafName
            if try CgroupFile.makeDirectory(leafPath) { created.append(leafPath) }
            // Repeat: a process may fork while the others are moved.
            while case let pids = try CgroupFile.readPids(v2.ownDirectory + "/cgroup.procs"), !pids.isEmpty {
                for pid in pids {
                    do {
                        try CgroupFile.write(String(pid), to: leafPath + "/cgroup.procs")
                    } catch where error.errno == .noSuchProcess {
                        continue
                    }
                }
            }
            leaf = leafPath
        }
        let change = wanted.map { "+" + $0 }.joined(separator: " ")
        var directory = v2.ownDirectory
        let below = target.dropFirst(v2.ownDirectory.count).split(separator: "/")
        try CgroupFile.write(change, to: directory + "/cgroup.subtree_control")
        for component in below {
            directory += "/" + component
            try CgroupFile.write(change, to: directory + "/cgroup.subtree_control")
        }
        return leaf
    }
}
