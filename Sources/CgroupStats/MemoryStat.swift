/// memory.stat of one cgroup, v1 or v2, with every key the kernel wrote.
///
/// Both versions report values for the cgroup's whole subtree, but under different keys: v2 keys are
/// hierarchical already; v1 prints the cgroup's own pages under plain keys ("rss") and the subtree's under
/// "total_" keys ("total_rss"). `Counter` maps a meaning to the subtree key of each version.
public struct MemoryStat: Sendable, Equatable {
    public let version: CgroupVersion
    /// The file name given to the parser, repeated in errors about missing keys.
    public let file: String
    /// Every "key value" line, unknown keys included; bytes, or event counts for pg* keys.
    public let fields: FlatKeyedFields

    public init(parsing text: String, file: String, version: CgroupVersion) throws(CgroupParseError) {
        self.version = version
        self.file = file
        self.fields = try flatKeyed(text, file: file)
    }

    /// Counters present in both versions, named after their v2 key.
    public enum Counter: Sendable, CaseIterable {
        case anon, file, shmem
        case activeAnon, inactiveAnon, activeFile, inactiveFile, unevictable
        case fileMapped, fileDirty, fileWriteback
        case pgfault, pgmajfault

        /// The key that holds this counter for the cgroup's whole subtree.
        public func key(in version: CgroupVersion) -> String {
            let (v2, v1): (String, String) = switch self {
            case .anon: ("anon", "total_rss")
            case .file: ("file", "total_cache")
            case .shmem: ("shmem", "total_shmem")
            case .activeAnon: ("active_anon", "total_active_anon")
            case .inactiveAnon: ("inactive_anon", "total_inactive_anon")
            case .activeFile: ("active_file", "total_active_file")
            case .inactiveFile: ("inactive_file", "total_inactive_file")
            case .unevictable: ("unevictable", "total_unevictable")
            case .fileMapped: ("file_mapped", "total_mapped_file")
            case .fileDirty: ("file_dirty", "total_dirty")
            case .fileWriteback: ("file_writeback", "total_writeback")
            case .pgfault: ("pgfault", "total_pgfault")
            case .pgmajfault: ("pgmajfault", "total_pgmajfault")
            }
            return version == .v2 ? v2 : v1
        }
    }

    /// The subtree value of `counter`, nil if this kernel did not report it.
    public subscript(counter: Counter) -> UInt64? {
        fields[counter.key(in: version)]
    }

    /// The subtree value of `counter`; a missing key is an error naming it, never a silent 0.
    public func require(_ counter: Counter) throws(CgroupParseError) -> UInt64 {
        try require(key: counter.key(in: version))
    }

    /// The value of a raw key; a missing key is an error naming it.
    public func require(key: String) throws(CgroupParseError) -> UInt64 {
        guard let value = fields[key] else {
            throw CgroupParseError(file: file, line: nil, message: "missing key '\(key)'")
        }
        return value
    }
}
