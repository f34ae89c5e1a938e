/// /proc/<pid>/cgroup: which cgroup a process is in, per hierarchy. One "hierarchy-id:controllers:path" line
/// per hierarchy: "0::/path" for the v2 (unified) tree, "4:memory:/path" or "9:name=systemd:/path" for v1.
public struct ProcCgroup: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// 0 for the v2 tree; the v1 hierarchy id otherwise.
        public let hierarchyID: Int
        /// The v1 controllers bound to the hierarchy ("cpu", "cpuacct", or "name=systemd" for a named
        /// hierarchy without controllers); empty for the v2 tree.
        public let controllers: [String]
        /// Path relative to the hierarchy's root (or to the cgroup namespace root), verbatim. The kernel
        /// appends " (deleted)" for a v2 cgroup removed while a zombie still belongs to it.
        public let path: String
    }

    /// One entry per line, in file order.
    public let entries: [Entry]

    public init(parsing text: String, file: String) throws(CgroupParseError) {
        var entries: [Entry] = []
        // Sets, not scans of `entries`: linear even in a file no kernel would write.
        var hierarchies: Set<Int> = []
        var listedControllers: Set<String> = []
        for line in try lines(of: text, file: file) {
            // maxSplits: the path is everything after the second colon, and cgroup names may contain ':'.
            let parts = line.text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            func failure(_ message: String) -> CgroupParseError {
                CgroupParseError(file: file, line: line.number, message: message)
            }
            guard parts.count == 3 else { throw failure("expected 'id:controllers:path', got '\(line.text)'") }
            let id = try unsignedInteger(parts[0], what: "hierarchy id", file: file, line: line.number)
            guard let hierarchyID = Int(exactly: id) else { throw failure("hierarchy id \(id) is out of range") }
            let controllers = parts[1].isEmpty ? [] : parts[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if hierarchyID == 0, !controllers.isEmpty { throw failure("hierarchy 0 (v2) lists controllers '\(parts[1])'") }
            if hierarchyID != 0, controllers.isEmpty { throw failure("v1 hierarchy \(hierarchyID) lists no controllers") }
            guard !controllers.contains("") else { throw failure("empty controller name in '\(parts[1])'") }
            guard parts[2].hasPrefix("/") else { throw failure("path '\(parts[2])' is not absolute") }
            guard hierarchies.insert(hierarchyID).inserted else {
                throw failure("duplicate hierarchy id \(hierarchyID)")
            }
            if let repeated = controllers.first(where: listedControllers.contains) {
                throw failure("controller '\(repeated)' listed in two hierarchies")
            }
            listedControllers.formUnion(controllers)
            entries.append(Entry(hierarchyID: hierarchyID, controllers: controllers, path: String(parts[2])))
        }
        guard !entries.isEmpty else {
            throw CgroupParseError(file: file, line: nil, message: "empty file, expected at least one hierarchy")
        }
        self.entries = entries
    }

    /// The path in the v2 tree (the "0::" line); nil on a pure-v1 host.
    public var unifiedPath: String? {
        entries.first { $0.hierarchyID == 0 }?.path
    }

    /// The path in the v1 hierarchy that `controller` ("memory", "cpuacct", "name=systemd") is bound to.
    public func path(forController controller: String) -> String? {
        entries.first { $0.controllers.contains(controller) }?.path
    }
}
