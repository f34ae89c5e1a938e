/// v2 cgroup.events: whether the cgroup (or a descendant) still has processes, and whether it is frozen.
public struct CgroupEvents: Sendable, Equatable {
    /// Every "key value" line, unknown keys included.
    public let fields: [String: UInt64]

    public init(parsing text: String, file: String) throws(CgroupParseError) {
        fields = try flatKeyed(text, file: file)
    }

    /// Some process lives in this cgroup or below it; false once the last one has exited.
    public var populated: Bool? { fields["populated"].map { $0 != 0 } }
    /// The cgroup is frozen (cgroup.freeze); absent on kernels without the v2 freezer.
    public var frozen: Bool? { fields["frozen"].map { $0 != 0 } }
}

/// A cgroup.procs (or tasks) file: one pid per line. A line that is not a pid is an error, never
/// skipped: a pid list read wrong would let a stop miss a process.
public enum PidList {
    public static func parse(_ text: String, file: String) throws(CgroupParseError) -> [Int32] {
        var pids: [Int32] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            guard let pid = Int32(line), pid > 0 else {
                throw CgroupParseError(file: file, line: index + 1, message: "expected a pid, got '\(line.prefix(64))'")
            }
            pids.append(pid)
        }
        return pids
    }
}
